with

source as (
    select * from {{ source('calendly', 'scheduled_events') }}
),

renamed as (
    select
        -- ids
        uri as event_uri,
        _dlt_id as event_row_id,
        {{ dbt.split_part('uri', "'/'", -1) }} as event_id,
        event_type as event_type_uri,

        -- strings
        name as event_name,
        status as event_status,
        location__type as location_type,
        cancellation__canceled_by as canceled_by,
        cancellation__canceler_type as canceler_type,
        cancellation__reason as cancellation_reason,

        -- numerics
        invitees_counter__total as invitees_total,
        invitees_counter__active as invitees_active,
        invitees_counter__limit as invitees_limit,

        -- timestamps
        start_time,
        end_time,
        created_at,
        updated_at,
        cancellation__created_at as canceled_at

    from source
)

select * from renamed
