-- One row per event type and week (weeks start on Monday, in UTC, by the meeting's start_time).
-- Every rate is over all bookings of that event type and week; show-up rate only over the
-- meetings that have an outcome (completed or no-show).
with

bookings as (
    select * from {{ ref('bookings') }}
),

bucketed as (
    select
        event_type_uri,
        event_type_name,
        event_type_slug,
        {{ dbt.cast(dbt.date_trunc('week', at_time_zone('start_time', "'UTC'")), 'date') }} as week_start,
        booking_status,
        lead_time_hours
    from bookings
),

aggregated as (
    select
        event_type_uri,
        event_type_name,
        event_type_slug,
        week_start,
        count(*) as bookings_count,
        count(case when booking_status = 'completed' then 1 end) as completed_count,
        count(case when booking_status = 'no_show' then 1 end) as no_show_count,
        count(case when booking_status = 'cancelled' then 1 end) as cancelled_count,
        count(case when booking_status = 'rescheduled' then 1 end) as rescheduled_count,
        {{ median("lead_time_hours") }} as median_lead_time_hours
    from bucketed
    group by event_type_uri, event_type_name, event_type_slug, week_start
),

final as (
    select
        {{ dbt.concat(['event_type_uri', "'|'", dbt.cast('week_start', dbt.type_string())]) }} as event_type_week_key,
        event_type_uri,
        event_type_name,
        event_type_slug,
        week_start,
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
