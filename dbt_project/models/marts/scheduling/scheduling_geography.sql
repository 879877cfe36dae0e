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
        {{ booking_outcome_counts() }}
    from labelled
    group by timezone
),

final as (
    select
        timezone,
        {{ dbt.split_part('timezone', "'/'", 1) }} as timezone_region,
        {{ booking_outcome_rates() }}
    from aggregated
)

select * from final
