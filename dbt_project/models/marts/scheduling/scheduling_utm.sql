-- One row per UTM source and campaign (missing values shown as '(none)'), over all time.
-- Every rate is over all bookings of that source and campaign.
with

bookings as (
    select * from {{ ref('bookings') }}
),

labelled as (
    select
        coalesce(utm_source, '(none)') as utm_source,
        coalesce(utm_campaign, '(none)') as utm_campaign,
        booking_status,
        lead_time_hours
    from bookings
),

aggregated as (
    select
        utm_source,
        utm_campaign,
        {{ booking_outcome_counts() }}
    from labelled
    group by utm_source, utm_campaign
),

final as (
    select
        {{ dbt.concat(['utm_source', "'|'", 'utm_campaign']) }} as utm_key,
        utm_source,
        utm_campaign,
        {{ booking_outcome_rates() }}
    from aggregated
)

select * from final
