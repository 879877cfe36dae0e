-- One row per person (lower-cased email): who they are, their latest booking and their history.
-- The latest booking is the most recently created one, so a rescheduled booking hands the contact
-- the status of its replacement.
with

bookings as (
    select * from {{ ref('bookings') }}
),

ranked as (
    select
        *,
        row_number() over (partition by email order by booked_at desc, invitee_uri desc) as recency,
        -- the newest booking that gave each field, whether or not it is the latest booking
        row_number() over (partition by email order by case when company is null then 1 else 0 end,
                           booked_at desc, invitee_uri desc) as company_rank,
        row_number() over (partition by email order by case when job_title is null then 1 else 0 end,
                           booked_at desc, invitee_uri desc) as job_title_rank,
        row_number() over (partition by email order by case when phone is null then 1 else 0 end,
                           case when phone_e164 is null then 1 else 0 end,
                           booked_at desc, invitee_uri desc) as phone_rank
    from bookings
),

latest as (
    select * from ranked where recency = 1
),

given as (
    select
        email,
        max(case when company_rank = 1 then company end) as company,
        max(case when job_title_rank = 1 then job_title end) as job_title,
        max(case when phone_rank = 1 then phone end) as phone,
        max(case when phone_rank = 1 then phone_e164 end) as phone_e164
    from ranked
    group by email
),

history as (
    select
        email,
        count(*) as bookings_count,
        count(case when booking_status = 'completed' then 1 end) as completed_count,
        count(case when booking_status = 'cancelled' then 1 end) as cancelled_count,
        count(case when booking_status = 'no_show' then 1 end) as no_show_count,
        count(case when booking_status = 'rescheduled' then 1 end) as rescheduled_count,
        min(booked_at) as first_booked_at,
        max(booked_at) as last_booked_at
    from bookings
    group by email
),

final as (
    select
        latest.email,
        latest.first_name,
        latest.last_name,
        given.company,
        given.job_title,
        given.phone,
        given.phone_e164,
        latest.timezone,
        latest.booking_status,
        latest.event_type_name as latest_event_type_name,
        latest.event_type_uri as latest_event_type_uri,
        latest.start_time as latest_start_time,
        latest.invitee_uri as latest_invitee_uri,
        history.bookings_count,
        history.completed_count,
        history.cancelled_count,
        history.no_show_count,
        history.rescheduled_count,
        history.first_booked_at,
        history.last_booked_at
    from latest
    inner join given on latest.email = given.email
    inner join history on latest.email = history.email
)

select * from final
