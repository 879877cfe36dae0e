with

source as (
    select * from {{ source('calendly', 'invitees') }}
),

renamed as (
    select
        -- ids
        uri as invitee_uri,
        _dlt_id as invitee_row_id,
        {{ dbt.split_part('uri', "'/'", -1) }} as invitee_id,
        event as event_uri,
        old_invitee as old_invitee_uri,
        new_invitee as new_invitee_uri,
        routing_form_submission as routing_form_submission_uri,
        no_show__uri as no_show_uri,

        -- strings
        email as email_as_given,
        lower(trim(email)) as email,
        name as full_name,
        first_name,
        last_name,
        status as invitee_status,
        timezone,
        text_reminder_number,
        cancellation__canceled_by as canceled_by,
        cancellation__canceler_type as canceler_type,
        cancellation__reason as cancellation_reason,
        tracking__utm_source as utm_source,
        tracking__utm_medium as utm_medium,
        tracking__utm_campaign as utm_campaign,
        tracking__utm_content as utm_content,
        tracking__utm_term as utm_term,
        tracking__salesforce_uuid as salesforce_uuid,
        cancel_url,
        reschedule_url,

        -- booleans
        coalesce(rescheduled, false) as is_rescheduled,

        -- timestamps
        created_at,
        updated_at,
        cancellation__created_at as canceled_at,
        no_show__created_at as no_show_marked_at

    from source
)

select * from renamed
