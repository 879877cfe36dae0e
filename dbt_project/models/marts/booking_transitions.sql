-- One row per booking and status it entered, with when it happened in Calendly: what the sync sends
-- Brevo as custom events. Every booking entered `booked` when it was made; the status it is in now
-- (bookings.booking_status: the one rule, in int_invitees_statused) is the other transition, if it
-- is not `booked`. Cancellation fields belong to the cancel or reschedule that set them only; a
-- reschedule is the old booking's `rescheduled` row and the new booking's `booked` row, which names it.
with

bookings as (
    select * from {{ ref('bookings') }}
),

invitees as (
    select * from {{ ref('stg_calendly__invitees') }}
),

entered as (
    select
        invitee_uri,
        'booked' as transition,
        booked_at as occurred_at
    from bookings

    union all

    select
        invitee_uri,
        booking_status as transition,
        case booking_status
            when 'cancelled' then canceled_at
            when 'rescheduled' then canceled_at
            -- Calendly's no_show carries created_at; an invitee's updated_at moves with the mark.
            when 'no_show' then coalesce(no_show_marked_at, updated_at)
            when 'completed' then end_time
        end as occurred_at
    from bookings
    where booking_status <> 'booked'
),

final as (
    select
        -- ids
        entered.invitee_uri || '#' || entered.transition as transition_key,
        entered.invitee_uri,
        bookings.event_uri,

        -- the transition
        entered.transition,
        entered.occurred_at,

        -- people
        bookings.email,
        bookings.timezone,

        -- the meeting
        bookings.event_type_name,
        bookings.start_time,
        bookings.end_time,
        bookings.host_names,
        bookings.primary_host_uri,

        -- the booking's links
        invitees.cancel_url,
        invitees.reschedule_url,

        -- the cancellation (cancelled and rescheduled rows only)
        case when entered.transition in ('cancelled', 'rescheduled') then bookings.canceler_type end
            as canceler_type,
        case when entered.transition in ('cancelled', 'rescheduled') then bookings.canceled_by end
            as canceled_by,
        case when entered.transition in ('cancelled', 'rescheduled') then bookings.cancellation_reason end
            as cancellation_reason,
        case when entered.transition = 'rescheduled' then bookings.rescheduled_to end as rescheduled_to,
        -- so that an automation can say when the meeting moved to, and tell a reschedule's new
        -- booking from a first one (Calendly makes a new invitee for it, which enters `booked` too)
        case when entered.transition = 'rescheduled' then new_booking.start_time end as new_start_time,
        case when entered.transition = 'booked' then bookings.rescheduled_from end as rescheduled_from

    from entered
    inner join bookings on entered.invitee_uri = bookings.invitee_uri
    left join invitees on entered.invitee_uri = invitees.invitee_uri
    left join bookings as new_booking on bookings.rescheduled_to = new_booking.invitee_uri
)

select * from final
