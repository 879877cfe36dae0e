{#- Median of a numeric expression, as an aggregate. No dbt cross-database macro exists for it:
    ANSI's ordered-set aggregate by default (PostgreSQL, Snowflake, …); DuckDB's own `median`. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'calendly_elt')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}
