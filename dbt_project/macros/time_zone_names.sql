{#- The relation of the time zone names the warehouse knows (column `name`): `AT TIME ZONE` fails the
    whole query on a name it does not know, and nothing in Calendly's API promises a known one.
    DuckDB (ICU) has it as a table function, PostgreSQL as a view; other adapters override
    `<adapter>__time_zone_names`. -#}
{% macro time_zone_names() -%}
    {{ return(adapter.dispatch('time_zone_names', 'calendly_elt')()) }}
{%- endmacro %}

{% macro default__time_zone_names() -%}
    pg_timezone_names
{%- endmacro %}

{% macro duckdb__time_zone_names() -%}
    pg_timezone_names()
{%- endmacro %}
