-- The custom questions each event type asks (dlt's child table of `event_types.custom_questions`),
-- tied to their event type by `event_type_row_id`.
with

source as (
    select * from {{ source('calendly', 'event_types__custom_questions') }}
),

renamed as (
    select
        -- ids
        _dlt_parent_id as event_type_row_id,

        -- strings
        name as question,
        lower(trim(name)) as question_key,
        type as question_type,

        -- numerics
        position,

        -- booleans
        enabled as is_enabled,
        required as is_required,
        include_other as includes_other

    from source
)

select * from renamed
