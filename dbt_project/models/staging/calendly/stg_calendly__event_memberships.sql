-- The hosts of each scheduled event: dlt's child table of `scheduled_events.event_memberships`,
-- tied to its event by `event_row_id` (joined in intermediate/).
with

source as (
    select * from {{ source('calendly', 'scheduled_events__event_memberships') }}
),

renamed as (
    select
        -- ids
        _dlt_parent_id as event_row_id,
        "user" as host_user_uri,

        -- strings
        user_email as host_email,
        user_name as host_name

    from source
)

select * from renamed
