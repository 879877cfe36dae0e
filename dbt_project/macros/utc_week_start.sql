{#- The Monday (UTC) of the week a timestamp falls in, as a date: the week of the weekly marts.
    `dbt.date_trunc('week')` starts weeks on Monday on DuckDB and PostgreSQL (Sunday on BigQuery). -#}
{% macro utc_week_start(timestamp) -%}
    {{ dbt.cast(dbt.date_trunc('week', at_time_zone(timestamp, "'UTC'")), 'date') }}
{%- endmacro %}
