{#- SHA-256 of a string's UTF-8 bytes, as 64 lower-case hex digits (what Python's
    `hashlib.sha256(text.encode()).hexdigest()` gives). `dbt.hash` is MD5. PostgreSQL ≥ 11 hashes
    bytea; DuckDB hashes the string itself. -#}
{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'calendly_elt')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    encode(sha256(convert_to({{ expression }}, 'UTF8')), 'hex')
{%- endmacro %}

{% macro duckdb__sha256_hex(expression) -%}
    sha256({{ expression }})
{%- endmacro %}
