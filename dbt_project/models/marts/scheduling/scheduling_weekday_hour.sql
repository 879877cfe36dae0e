-- One row per weekday and hour of the invitee's own local start time (start_time_local) that has
-- bookings: when people choose to meet. Rates are over all bookings in that weekday and hour.
-- Bookings whose invitee has no time zone (Calendly's `timezone` is nullable) have no local time: left out.
with

bookings as (
    select * from {{ ref('bookings') }}
),

bucketed as (
    select
        {{ iso_weekday("start_time_local") }} as weekday_number,
        cast(extract(hour from start_time_local) as integer) as hour_of_day,  -- numeric on PostgreSQL
        booking_status,
        lead_time_hours
    from bookings
    where start_time_local is not null
),

aggregated as (
    select
        weekday_number,
        hour_of_day,
        {{ booking_outcome_counts() }}
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
        {{ booking_outcome_rates() }}
    from aggregated
)

select * from final
