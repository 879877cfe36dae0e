{#- The Monday (UTC) of the week a timestamp falls in, as a date: the week of the weekly marts.
    `dbt.date_trunc('week')` starts weeks on Monday on DuckDB and PostgreSQL (the default); adapters
    whose weeks start on another day override `<adapter>__utc_week_start` (BigQuery: `week(monday)`). -#}
{% macro utc_week_start(timestamp) -%}
    {{ return(adapter.dispatch('utc_week_start', 'calendly_elt')(timestamp)) }}
{%- endmacro %}

{% macro default__utc_week_start(timestamp) -%}
    {{ dbt.cast(dbt.date_trunc('week', at_time_zone(timestamp, "'UTC'")), 'date') }}
{%- endmacro %}
