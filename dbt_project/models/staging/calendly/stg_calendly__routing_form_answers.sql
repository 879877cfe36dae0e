-- One row per answered question of a routing-form submission.
with

source as (
    select * from {{ source('calendly', 'routing_form_submissions__questions_and_answers') }}
),

renamed as (
    select
        -- ids
        _dlt_parent_id as submission_row_id,
        question_uuid,

        -- strings
        question,
        answer

    from source
)

select * from renamed
