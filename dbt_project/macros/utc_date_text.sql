{#- The UTC date of a timestamp as YYYY-MM-DD text (a Brevo date). Not a cast to text: PostgreSQL
    writes dates by its DateStyle setting, which a server may set to 'SQL, DMY'. -#}
{% macro utc_date_text(timestamp) -%}
    {{ return(adapter.dispatch('utc_date_text', 'calendly_elt')(timestamp)) }}
{%- endmacro %}

{% macro default__utc_date_text(timestamp) -%}
    to_char({{ at_time_zone(timestamp, "'UTC'") }}, 'YYYY-MM-DD')
{%- endmacro %}

{% macro duckdb__utc_date_text(timestamp) -%}
    strftime({{ at_time_zone(timestamp, "'UTC'") }}, '%Y-%m-%d')
{%- endmacro %}
