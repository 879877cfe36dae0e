{#- The measures every scheduling mart reports, defined once (docs: _scheduling__docs.md).
    `booking_outcome_counts()` goes in the aggregating select; `booking_outcome_rates(relation)`
    in the final select over it. -#}
{% macro booking_outcome_counts() -%}
        count(*) as bookings_count,
        count(case when booking_status = 'completed' then 1 end) as completed_count,
        count(case when booking_status = 'no_show' then 1 end) as no_show_count,
        count(case when booking_status = 'cancelled' then 1 end) as cancelled_count,
        count(case when booking_status = 'rescheduled' then 1 end) as rescheduled_count,
        {{ median("lead_time_hours") }} as median_lead_time_hours
{%- endmacro %}

{% macro booking_outcome_rates(relation) -%}
        {%- set r = relation ~ '.' if relation else '' %}
        {{ r }}bookings_count,
        {{ r }}completed_count,
        {{ r }}no_show_count,
        {{ r }}cancelled_count,
        {{ r }}rescheduled_count,
        {{ ratio(r ~ 'cancelled_count', r ~ 'bookings_count') }} as cancellation_rate,
        {{ ratio(r ~ 'rescheduled_count', r ~ 'bookings_count') }} as reschedule_rate,
        {{ ratio(r ~ 'no_show_count', r ~ 'bookings_count') }} as no_show_rate,
        {{ ratio(r ~ 'completed_count', r ~ 'completed_count + ' ~ r ~ 'no_show_count') }} as show_up_rate,
        {{ r }}median_lead_time_hours
{%- endmacro %}
