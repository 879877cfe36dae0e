-- One row per invitee time zone (IANA name, '(unknown)' when missing), over all time, with the
-- zone's region (the part before the first '/'). Every rate is over all bookings of that zone.
with

bookings as (
    select * from {{ ref('bookings') }}
),

labelled as (
    select
        coalesce(timezone, '(unknown)') as timezone,
        booking_status,
        lead_time_hours
    from bookings
),

aggregated as (
    select
        timezone,
        count(*) as bookings_count,
        count(case when booking_status = 'completed' then 1 end) as completed_count,
        count(case when booking_status = 'no_show' then 1 end) as no_show_count,
        count(case when booking_status = 'cancelled' then 1 end) as cancelled_count,
        count(case when booking_status = 'rescheduled' then 1 end) as rescheduled_count,
        {{ median("lead_time_hours") }} as median_lead_time_hours
    from labelled
    group by timezone
),

final as (
    select
        timezone,
        {{ dbt.split_part('timezone', "'/'", 1) }} as timezone_region,
        bookings_count,
        completed_count,
        no_show_count,
        cancelled_count,
        rescheduled_count,
        cancelled_count * 1.0 / bookings_count as cancellation_rate,
        rescheduled_count * 1.0 / bookings_count as reschedule_rate,
        no_show_count * 1.0 / bookings_count as no_show_rate,
        completed_count * 1.0 / nullif(completed_count + no_show_count, 0) as show_up_rate,
        median_lead_time_hours
    from aggregated
)

select * from final
