-- Booking status of each invitee, by the rules of DESIGN.md (first that applies).
with

invitees as (
    select * from {{ ref('stg_calendly__invitees') }}
),

events as (
    select * from {{ ref('stg_calendly__scheduled_events') }}
),

statused as (
    select
        invitees.invitee_uri,
        case
            when invitees.no_show_uri is not null then 'no_show'
            when invitees.invitee_status = 'canceled' and invitees.is_rescheduled then 'rescheduled'
            when invitees.invitee_status = 'canceled' then 'cancelled'
            when events.end_time <= {{ as_of() }} then 'completed'
            else 'booked'
        end as booking_status
    from invitees
    left join events on invitees.event_uri = events.event_uri
)

select * from statused
