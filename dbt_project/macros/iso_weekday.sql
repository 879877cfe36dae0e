{#- ISO weekday (1 = Monday … 7 = Sunday) of a timestamp. DuckDB and PostgreSQL both know
    `extract(isodow …)` (an integer; a numeric on PostgreSQL, hence the cast); adapters that differ (Snowflake: dayofweekiso) override it. -#}
{% macro iso_weekday(timestamp) -%}
    {{ return(adapter.dispatch('iso_weekday', 'calendly_elt')(timestamp)) }}
{%- endmacro %}

{% macro default__iso_weekday(timestamp) -%}
    cast(extract(isodow from {{ timestamp }}) as integer)
{%- endmacro %}
