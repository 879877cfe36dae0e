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
        {{ utc_week_start('start_time') }} as week_start,
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
        {{ booking_outcome_counts() }}
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
        {{ booking_outcome_rates() }}
    from aggregated
)

select * from final
