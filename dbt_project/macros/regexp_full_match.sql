{#- Whether a whole string matches a regular expression (NULL for NULL). dbt has no cross-database
    macro for it. Keep patterns to what both engines read alike: RE2 (DuckDB) and PostgreSQL's
    AREs share classes, `{m,n}` bounds and `(?:…)` groups; write `[0-9]` rather than `\d`. -#}
{% macro regexp_full_match(expression, pattern) -%}
    {{ return(adapter.dispatch('regexp_full_match', 'calendly_elt')(expression, pattern)) }}
{%- endmacro %}

{% macro default__regexp_full_match(expression, pattern) -%}
    ({{ expression }} ~ {{ sql_string('^(?:' ~ pattern ~ ')$') }})
{%- endmacro %}

{% macro duckdb__regexp_full_match(expression, pattern) -%}
    regexp_full_match({{ expression }}, {{ sql_string(pattern) }})
{%- endmacro %}
