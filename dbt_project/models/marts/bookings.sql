-- One row per invitee of a scheduled event: the booking, its status and what the invitee told us.
with

invitees as (
    select * from {{ ref('stg_calendly__invitees') }}
),

events as (
    select * from {{ ref('stg_calendly__scheduled_events') }}
),

event_types as (
    select * from {{ ref('stg_calendly__event_types') }}
),

statuses as (
    select * from {{ ref('int_invitees_statused') }}
),

fields as (
    select * from {{ ref('int_invitee_fields_mapped') }}
),

hosts as (
    select * from {{ ref('int_event_hosts_aggregated') }}
),

routing as (
    select * from {{ ref('int_routing_answers_aggregated') }}
),

known_time_zones as (
    -- Local times only in a zone the warehouse knows: an unknown name (or '') would fail the query.
    select distinct name as timezone from {{ time_zone_names() }}
),

names as (
    -- Calendly gives only `name` for some booking forms: split it then.
    select
        invitee_uri,
        coalesce(first_name, {{ dbt.split_part('full_name', "' '", 1) }}) as first_name,
        coalesce(
            last_name,
            nullif(trim(substr(full_name, length({{ dbt.split_part('full_name', "' '", 1) }}) + 1)), '')
        ) as last_name
    from invitees
),

final as (
    select
        -- ids
        invitees.invitee_uri,
        invitees.invitee_id,
        invitees.event_uri,
        events.event_id,
        events.event_type_uri,
        hosts.primary_host_uri,
        invitees.old_invitee_uri as rescheduled_from,
        invitees.new_invitee_uri as rescheduled_to,
        invitees.routing_form_submission_uri,

        -- people
        invitees.email,
        invitees.full_name,
        names.first_name,
        names.last_name,
        fields.company,
        fields.job_title,
        fields.phone,
        fields.phone_e164,
        fields.phone_country,
        invitees.timezone,

        -- the meeting
        -- The event carries its type's name too: a type deleted since, or hidden from this token, is not listed.
        coalesce(event_types.event_type_name, events.event_name) as event_type_name,
        event_types.event_type_slug,
        hosts.host_names,
        hosts.host_count,
        events.event_status,
        events.start_time,
        events.end_time,
        case when known_time_zones.timezone is not null
            then {{ at_time_zone('events.start_time', "coalesce(known_time_zones.timezone, 'UTC')") }}
        end as start_time_local,
        case when known_time_zones.timezone is not null
            then {{ at_time_zone('events.end_time', "coalesce(known_time_zones.timezone, 'UTC')") }}
        end as end_time_local,

        -- the booking
        statuses.booking_status,
        invitees.invitee_status,
        invitees.created_at as booked_at,
        cast({{ dbt.datediff('invitees.created_at', 'events.start_time', 'minute') }} as {{ type_double() }}) / 60
            as lead_time_hours,
        case when invitees.invitee_status = 'canceled'
            then coalesce(invitees.canceled_at, invitees.updated_at) end as canceled_at,
        invitees.canceler_type,
        invitees.canceled_by,
        invitees.cancellation_reason,
        invitees.is_rescheduled,
        invitees.no_show_marked_at,

        -- attribution
        invitees.utm_source,
        invitees.utm_medium,
        invitees.utm_campaign,
        invitees.utm_content,
        invitees.utm_term,
        routing.routing_form_name,
        routing.routing_form_answers,

        invitees.updated_at

    from invitees
    left join names on invitees.invitee_uri = names.invitee_uri
    left join events on invitees.event_uri = events.event_uri
    left join event_types on events.event_type_uri = event_types.event_type_uri
    left join statuses on invitees.invitee_uri = statuses.invitee_uri
    left join fields on invitees.invitee_row_id = fields.invitee_row_id
    left join hosts on invitees.event_uri = hosts.event_uri
    left join routing on invitees.routing_form_submission_uri = routing.routing_form_submission_uri
    left join known_time_zones on invitees.timezone = known_time_zones.timezone
)

select * from final
