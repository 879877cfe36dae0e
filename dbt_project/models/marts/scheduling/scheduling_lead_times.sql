-- One row per event type and lead-time bucket (hours from booking to the meeting's start, lower
-- bound included) that has bookings, over all time: how far ahead people book. Every rate is over
-- all bookings of that event type and bucket.
with

bookings as (
    select * from {{ ref('bookings') }}
),

bucketed as (
    select
        event_type_uri,
        event_type_name,
        event_type_slug,
        case
            when lead_time_hours is null then 9
            when lead_time_hours < 1 then 1
            when lead_time_hours < 4 then 2
            when lead_time_hours < 24 then 3
            when lead_time_hours < 72 then 4
            when lead_time_hours < 168 then 5
            when lead_time_hours < 336 then 6
            when lead_time_hours < 672 then 7
            else 8
        end as bucket_order,
        booking_status,
        lead_time_hours
    from bookings
),

aggregated as (
    select
        event_type_uri,
        event_type_name,
        event_type_slug,
        bucket_order,
        {{ booking_outcome_counts() }}
    from bucketed
    group by event_type_uri, event_type_name, event_type_slug, bucket_order
),

final as (
    select
        {{ dbt.concat(['event_type_uri', "'|'", dbt.cast('bucket_order', dbt.type_string())]) }} as event_type_lead_time_key,
        event_type_uri,
        event_type_name,
        event_type_slug,
        case bucket_order
            when 1 then '< 1 h'
            when 2 then '1–4 h'
            when 3 then '4–24 h'
            when 4 then '1–3 d'
            when 5 then '3–7 d'
            when 6 then '1–2 w'
            when 7 then '2–4 w'
            when 8 then '≥ 4 w'
            else '(unknown)'
        end as lead_time_bucket,
        bucket_order,
        {{ booking_outcome_rates() }}
    from aggregated
)

select * from final
