-- The Brevo payload: one row per contact (lower-cased email) with exactly what the sync sends: one
-- column per mapped Brevo attribute, named as the attribute and valued as Brevo takes it, the lists,
-- and the hash the sync compares with what Brevo last accepted. The sync adds nothing to it.
-- The vars come from the mapping YAML (pipelines/mapping.py, Mapping.dbt_vars):
--   brevo_attributes: Brevo attribute → marts.contacts column;
--   brevo_all_invitees_list: the list every contact joins;
--   brevo_event_type_lists: event type name → its list (`#<list id>` or a list name); the event types
--   it does not name get a list "Calendly: <event type name>".
{%- set attributes = var('brevo_attributes') %}
{%- set mapped_lists = var('brevo_event_type_lists') %}
{%- set sms_attributes = attributes.values() | select('equalto', 'phone_e164') | list %}
{#- What Brevo accepts: an SMS in E.164, an address of this shape (local part, `@`, a dotted domain of
    letters, digits and hyphens). -#}
{%- set e164 = '[+][1-9][0-9]{6,14}' %}
{%- set email_address = "[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                        ~ "(?:[.][A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+" %}

with

contacts as (
    select * from {{ ref('contacts') }}
),

bookings as (
    select * from {{ ref('bookings') }}
),

event_types as (
    select * from {{ ref('stg_calendly__event_types') }}
),

sms_holders as (
    -- Brevo keeps an SMS on one contact: a number several people gave stays with the one who booked
    -- last (on a tie, the greater email).
    select
        phone_e164,
        email as holder_email,
        row_number() over (
            partition by phone_e164
            order by last_booked_at desc, {{ codepoint_order('email') }} desc
        ) as holder_rank
    from contacts
    where phone_e164 <> ''
),

phones as (
    select
        contacts.email,
        contacts.phone,
        contacts.phone_e164,
        {{ regexp_full_match('contacts.phone_e164', e164) }} as is_e164,
        sms_holders.holder_email
    from contacts
    left join sms_holders
        on contacts.phone_e164 = sms_holders.phone_e164
        and sms_holders.holder_rank = 1
),

sms as (
    -- The SMS each contact sends (E.164, and theirs to keep), and why a phone was left out.
    select
        email,
        case when is_e164 and holder_email = email then phone_e164 end as kept_sms,
        case when is_e164 and holder_email <> email then holder_email end as sms_kept_by,
        case when phone <> '' and coalesce(phone_e164, '') = ''
            then {{ dbt.concat(["'phone '''", "phone", "''' dropped: not a valid number for its country'"]) }}
        end as unparsed_phone_note,
        case
            when phone_e164 <> '' and not is_e164
                then {{ dbt.concat(["'phone '''", "phone_e164", "''' dropped: not E.164'"]) }}
            when is_e164 and holder_email <> email
                then {{ dbt.concat(["'phone '", "phone_e164", "' dropped: '", "holder_email",
                                    "' has it too (Brevo keeps an SMS on one contact)'"]) }}
        end as sms_note
    from phones
),

event_type_lists as (
    -- The list of each event type a contact booked.
    select distinct
        email,
        {%- if mapped_lists %}
        case event_type_name
            {%- for event_type, list_key in mapped_lists.items() %}
            when {{ sql_string(event_type) }} then {{ sql_string(list_key) }}
            {%- endfor %}
            else {{ dbt.concat(["'Calendly: '", "event_type_name"]) }}
        end as list_key
        {%- else %}
        {{ dbt.concat(["'Calendly: '", "event_type_name"]) }} as list_key
        {%- endif %}
    from bookings
    where event_type_name is not null
),

list_keys as (
    -- Every contact is in the all-invitees list, and in the list of each event type booked.
    select
        email,
        {{ sql_string(var('brevo_all_invitees_list')) }} as list_key
    from contacts
    union all
    select
        email,
        list_key
    from event_type_lists
),

list_keys_as_json as (
    select
        email,
        list_key,
        {{ json_string('list_key') }} as list_key_json
    from list_keys
),

lists as (
    -- A JSON array, in code-point order.
    select
        email,
        {{ dbt.concat(["'['", dbt.listagg('list_key_json', "', '", "order by " ~ codepoint_order('list_key')), "']'"]) }}
            as lists
    from list_keys_as_json
    group by email
),

attribute_values as (
    -- Each mapped attribute, valued as Brevo takes it: text, the meeting's UTC date as YYYY-MM-DD,
    -- the SMS only where the contact keeps it.
    select
        contacts.email
        {%- for attribute, column in attributes.items() %},
        {% if column == 'phone_e164' -%}
        sms.kept_sms
        {%- elif column == 'latest_start_time' -%}
        {{ utc_date_text('contacts.latest_start_time') }}
        {%- else -%}
        contacts.{{ column }}
        {%- endif %} as {{ adapter.quote(attribute) }}
        {%- endfor %}
    from contacts
    left join sms on contacts.email = sms.email
),

attribute_members as (
    -- Each attribute as the JSON member `"NAME": "value"`, NULL when it has no value.
    select
        email
        {%- for attribute in attributes %},
        {{ dbt.concat([sql_string('"' ~ attribute ~ '": '), json_string(adapter.quote(attribute))]) }}
            as {{ adapter.quote(attribute) }}
        {%- endfor %}
    from attribute_values
),

payloads as (
    -- The hash of the payload as JSON, byte for byte as the sync's Python wrote it before it moved
    -- here: json.dumps({"attributes": {…}, "lists": […]}, sort_keys=True), missing values left out.
    {%- set members = [] %}
    {%- for attribute in attributes.keys() | sort(case_sensitive=true) %}
    {%- do members.append('attribute_members.' ~ adapter.quote(attribute)) %}
    {%- endfor %}
    select
        attribute_members.email,
        lists.lists,
        {{ sha256_hex(dbt.concat([
            "'{\"attributes\": {'", "coalesce(" ~ join_present(members, "', '") ~ ", '')",
            "'}, \"lists\": '", "lists.lists", "'}'"
        ])) }} as payload_hash
    from attribute_members
    inner join lists on attribute_members.email = lists.email
),

emails as (
    select
        email,
        coalesce({{ regexp_full_match('email', email_address) }}, false) as email_is_valid
    from contacts
),

notes as (
    -- What was left out and why, for the sync log.
    select
        emails.email,
        {{ join_present((["sms.unparsed_phone_note", "sms.sms_note"] if sms_attributes else [])
                        + ["case when not emails.email_is_valid then 'not a valid email address: not sent' end"],
                        "'; '") }} as notes
    from emails
    left join sms on emails.email = sms.email
),

rebooking as (
    -- A re-booking episode: the contact's latest booking is cancelled or a no-show. Its key is that
    -- booking (a new booking, or the no-show mark removed, ends it); the link is for its event type,
    -- which can take a booking only while it is active and not deleted, and is a booking page: not a
    -- one-off meeting nor a meeting poll (a type the warehouse does not hold, hidden from the token or
    -- gone, cannot).
    select
        contacts.email,
        contacts.latest_invitee_uri as rebook_invitee_uri,
        contacts.latest_event_type_uri as rebook_event_type_uri,
        coalesce(
            event_types.is_active
            and event_types.deleted_at is null
            and not coalesce(event_types.is_one_off, false)
            and coalesce(event_types.booking_method, 'instant') = 'instant',
            false
        ) as rebook_bookable
    from contacts
    left join event_types on contacts.latest_event_type_uri = event_types.event_type_uri
    where contacts.booking_status in ('cancelled', 'no_show')
),

final as (
    select
        attribute_values.*,
        payloads.lists,
        payloads.payload_hash,
        emails.email_is_valid,
        {%- if sms_attributes %}
        sms.sms_kept_by,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as sms_kept_by,
        {%- endif %}
        notes.notes,
        rebooking.rebook_invitee_uri,
        rebooking.rebook_event_type_uri,
        rebooking.rebook_bookable
    from attribute_values
    inner join payloads on attribute_values.email = payloads.email
    inner join emails on attribute_values.email = emails.email
    inner join notes on attribute_values.email = notes.email
    left join sms on attribute_values.email = sms.email
    left join rebooking on attribute_values.email = rebooking.email
)

select * from final
