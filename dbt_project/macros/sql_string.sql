{#- A SQL string literal of a value known when the model compiles (a list name, an event type name
    from the mapping YAML): single quotes doubled, so any text is safe. `dbt.string_literal` does not
    escape. Standard SQL: DuckDB and PostgreSQL (standard_conforming_strings, the default) alike. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
