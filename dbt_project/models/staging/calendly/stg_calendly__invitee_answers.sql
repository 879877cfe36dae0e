-- One row per answered question of an invitee (dlt's child table of `invitees.questions_and_answers`).
with

source as (
    select * from {{ source('calendly', 'invitees__questions_and_answers') }}
),

renamed as (
    select
        -- ids
        _dlt_parent_id as invitee_row_id,

        -- strings
        question,
        lower(trim(question)) as question_key,
        answer,

        -- numerics
        position

    from source
)

select * from renamed
