-- One row per weekday and hour of the invitee's own local start time (start_time_local) that has
-- bookings: when people choose to meet. Rates are over all bookings in that weekday and hour.
with

bookings as (
    select * from {{ ref('bookings') }}
),

bucketed as (
    select
        {{ iso_weekday("start_time_local") }} as weekday_number,
        extract(hour from start_time_local) as hour_of_day,
        booking_status,
        lead_time_hours
    from bookings
),

aggregated as (
    select
        weekday_number,
        hour_of_day,
        count(*) as bookings_count,
        count(case when booking_status = 'completed' then 1 end) as completed_count,
        count(case when booking_status = 'no_show' then 1 end) as no_show_count,
        count(case when booking_status = 'cancelled' then 1 end) as cancelled_count,
        count(case when booking_status = 'rescheduled' then 1 end) as rescheduled_count,
        {{ median("lead_time_hours") }} as median_lead_time_hours
    from bucketed
    group by weekday_number, hour_of_day
),

final as (
    select
        {{ dbt.concat([dbt.cast('weekday_number', dbt.type_string()), "'|'", dbt.cast('hour_of_day', dbt.type_string())]) }} as weekday_hour_key,
        weekday_number,
        case weekday_number
            when 1 then 'Monday'
            when 2 then 'Tuesday'
            when 3 then 'Wednesday'
            when 4 then 'Thursday'
            when 5 then 'Friday'
            when 6 then 'Saturday'
            when 7 then 'Sunday'
        end as weekday_name,
        hour_of_day,
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
