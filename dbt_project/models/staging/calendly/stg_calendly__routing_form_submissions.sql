with

source as (
    select * from {{ source('calendly', 'routing_form_submissions') }}
),

renamed as (
    select
        -- ids
        uri as routing_form_submission_uri,
        _dlt_id as submission_row_id,
        routing_form as routing_form_uri,
        submitter as submitter_invitee_uri,

        -- strings
        submitter_type,
        result__type as result_type,
        tracking__utm_source as utm_source,
        tracking__utm_medium as utm_medium,
        tracking__utm_campaign as utm_campaign,

        -- timestamps
        created_at,
        updated_at

    from source
)

select * from renamed
