with

source as (
    select * from {{ source('calendly', 'event_types') }}
),

renamed as (
    select
        -- ids
        uri as event_type_uri,
        _dlt_id as event_type_row_id,
        {{ dbt.split_part('uri', "'/'", -1) }} as event_type_id,
        profile__owner as owner_uri,

        -- strings
        name as event_type_name,
        slug as event_type_slug,
        kind,
        pooling_type,
        kind_description,
        booking_method,
        profile__type as profile_type,
        profile__name as profile_name,
        scheduling_url,

        -- numerics
        duration as duration_minutes,

        -- booleans
        active as is_active,
        secret as is_secret,
        admin_managed as is_admin_managed,
        type = 'AdhocEventType' as is_one_off,

        -- timestamps
        created_at,
        updated_at,
        deleted_at

    from source
)

select * from renamed
