{#- A 64-bit float, for rates and hours. `dbt.type_float()` is not it: on DuckDB `float` is 32-bit.
    And on PostgreSQL `count * 1.0 / count` is an exact numeric of 20 decimals, so ratios are cast:
    the same values, and the same type, on every warehouse. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'calendly_elt')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}

{#- numerator / denominator as a double (NULL when the denominator is 0 or NULL). -#}
{% macro ratio(numerator, denominator) -%}
    cast({{ numerator }} as {{ type_double() }}) / nullif({{ denominator }}, 0)
{%- endmacro %}
