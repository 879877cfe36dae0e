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
        count(*) as bookings_count,
        count(case when booking_status = 'completed' then 1 end) as completed_count,
        count(case when booking_status = 'no_show' then 1 end) as no_show_count,
        count(case when booking_status = 'cancelled' then 1 end) as cancelled_count,
        count(case when booking_status = 'rescheduled' then 1 end) as rescheduled_count,
        {{ median("lead_time_hours") }} as median_lead_time_hours
    from labelled
    group by utm_source, utm_campaign
),

final as (
    select
        {{ dbt.concat(['utm_source', "'|'", 'utm_campaign']) }} as utm_key,
        utm_source,
        utm_campaign,
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
