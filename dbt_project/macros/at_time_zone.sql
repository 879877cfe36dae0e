{#- A UTC timestamp as wall-clock time in an IANA time zone the warehouse knows (an unknown one fails
    the query: check it against `time_zone_names()` first, as bookings.sql does).
    DuckDB (with ICU) and PostgreSQL both spell it `AT TIME ZONE`; adapters that differ override
    `<adapter>__at_time_zone`. -#}
{% macro at_time_zone(timestamp, tz) -%}
    {{ return(adapter.dispatch('at_time_zone', 'calendly_elt')(timestamp, tz)) }}
{%- endmacro %}

{% macro default__at_time_zone(timestamp, tz) -%}
    ({{ timestamp }} at time zone {{ tz }})
{%- endmacro %}
