{#- ISO weekday (1 = Monday … 7 = Sunday) of a timestamp. DuckDB and PostgreSQL both know
    `extract(isodow …)`; adapters that differ (Snowflake: dayofweekiso) override it. -#}
{% macro iso_weekday(timestamp) -%}
    {{ return(adapter.dispatch('iso_weekday', 'calendly_elt')(timestamp)) }}
{%- endmacro %}

{% macro default__iso_weekday(timestamp) -%}
    extract(isodow from {{ timestamp }})
{%- endmacro %}
