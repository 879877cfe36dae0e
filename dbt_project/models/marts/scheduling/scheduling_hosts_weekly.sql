-- One row per primary host and week (weeks start on Monday, in UTC, by the meeting's start_time).
-- Every rate is over all bookings of that host and week; show-up rate only over the meetings that
-- have an outcome (completed or no-show).
with

bookings as (
    select * from {{ ref('bookings') }}
),

memberships as (
    select * from {{ ref('stg_calendly__organization_memberships') }}
),

bucketed as (
    select
        -- An event may list no host (nothing in the API promises one): counted under '(unknown)'.
        coalesce(primary_host_uri, '(unknown)') as primary_host_uri,
        {{ utc_week_start('start_time') }} as week_start,
        booking_status,
        lead_time_hours
    from bookings
),

aggregated as (
    select
        primary_host_uri,
        week_start,
        {{ booking_outcome_counts() }}
    from bucketed
    group by primary_host_uri, week_start
),

final as (
    select
        {{ dbt.concat(['aggregated.primary_host_uri', "'|'", dbt.cast('aggregated.week_start', dbt.type_string())]) }} as host_week_key,
        aggregated.primary_host_uri,
        memberships.user_name as host_name,
        memberships.user_email as host_email,
        aggregated.week_start,
        {{ booking_outcome_rates('aggregated') }}
    from aggregated
    left join memberships on aggregated.primary_host_uri = memberships.user_uri
)

select * from final
