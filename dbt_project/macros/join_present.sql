{#- The non-NULL ones of some text expressions, in order, joined by `separator` (SQL text, such as
    "'; '"); NULL when all are NULL. What concat_ws does, which not every adapter has: each piece is
    `separator || expression`, NULL with its expression, and the first separator is cut off. -#}
{% macro join_present(expressions, separator) -%}
    {%- if not expressions -%}
    cast(null as {{ dbt.type_string() }})
    {%- else -%}
    {%- set pieces = [] -%}
    {%- for expression in expressions -%}
    {%- do pieces.append("coalesce(" ~ dbt.concat([separator, expression]) ~ ", '')") -%}
    {%- endfor -%}
    nullif(substr({{ dbt.concat(pieces) }}, length({{ separator }}) + 1), '')
    {%- endif -%}
{%- endmacro %}
