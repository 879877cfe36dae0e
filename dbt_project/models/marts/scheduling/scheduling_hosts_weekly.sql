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

event_hosts as (
    -- Who hosted, as the events name them: a host who has left the organization has no membership.
    select
        host_user_uri,
        max(host_name) as host_name,
        max(lower(host_email)) as host_email
    from {{ ref('stg_calendly__event_memberships') }}
    group by host_user_uri
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
        coalesce(memberships.user_name, event_hosts.host_name) as host_name,
        coalesce(memberships.user_email, event_hosts.host_email) as host_email,
        memberships.user_uri is not null as is_current_member,
        aggregated.week_start,
        {{ booking_outcome_rates('aggregated') }}
    from aggregated
    left join memberships on aggregated.primary_host_uri = memberships.user_uri
    left join event_hosts on aggregated.primary_host_uri = event_hosts.host_user_uri
)

select * from final
