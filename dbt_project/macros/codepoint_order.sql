{#- A string as a sort key in code-point order, the order of Python's `sorted` (and of UTF-8 bytes),
    whatever the database's locale: PostgreSQL sorts text by its collation (en_US puts 'beta' before
    'Webinar'), so it is sorted as "C"; DuckDB compares bytes already. For `order by`, not `select`. -#}
{% macro codepoint_order(expression) -%}
    {{ return(adapter.dispatch('codepoint_order', 'calendly_elt')(expression)) }}
{%- endmacro %}

{% macro default__codepoint_order(expression) -%}
    {{ expression }} collate "C"
{%- endmacro %}

{% macro duckdb__codepoint_order(expression) -%}
    {{ expression }}
{%- endmacro %}
