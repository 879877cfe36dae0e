-- One row per answered question of an invitee (dlt's child table of `invitees.questions_and_answers`);
-- an answer that is a valid phone number carries its E.164 form, added by the extract.
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
        phone_e164,
        phone_country,

        -- numerics
        position

    from source
)

select * from renamed
