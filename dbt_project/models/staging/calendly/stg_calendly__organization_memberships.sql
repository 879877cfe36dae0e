with

source as (
    select * from {{ source('calendly', 'organization_memberships') }}
),

renamed as (
    select
        -- ids
        uri as membership_uri,
        user__uri as user_uri,
        organization as organization_uri,

        -- strings
        role,
        user__name as user_name,
        lower(user__email) as user_email,
        user__timezone as user_timezone,

        -- timestamps
        created_at,
        updated_at

    from source
)

select * from renamed
