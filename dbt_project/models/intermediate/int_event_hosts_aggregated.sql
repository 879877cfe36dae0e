-- The host(s) of each scheduled event, one row per event.
with

hosts as (
    select * from {{ ref('stg_calendly__event_memberships') }}
),

events as (
    select event_uri, event_row_id from {{ ref('stg_calendly__scheduled_events') }}
),

aggregated as (
    select
        events.event_uri,
        min(hosts.host_user_uri) as primary_host_uri,
        count(*) as host_count,
        {{ dbt.listagg('hosts.host_name', "', '", "order by hosts.host_name") }} as host_names
    from hosts
    inner join events on hosts.event_row_id = events.event_row_id
    group by events.event_uri
)

select * from aggregated
