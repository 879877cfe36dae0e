with

source as (
    select * from {{ source('calendly', 'routing_forms') }}
),

renamed as (
    select
        -- ids
        uri as routing_form_uri,
        organization as organization_uri,

        -- strings
        name as routing_form_name,
        status as routing_form_status,

        -- timestamps
        created_at,
        updated_at

    from source
)

select * from renamed
