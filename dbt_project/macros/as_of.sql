{#- "Now" for time-dependent rules (has the event ended?). The var `as_of` pins it, for unit tests
    and for re-running history; otherwise it is the warehouse's current timestamp. -#}
{% macro as_of() -%}
    {%- if var('as_of', none) -%}
        cast('{{ var("as_of") }}' as timestamp with time zone)
    {%- else -%}
        {{ dbt.current_timestamp() }}
    {%- endif -%}
{%- endmacro %}
