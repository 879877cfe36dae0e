{#- A string as a JSON string, byte for byte as Python's `json.dumps` writes it (ensure_ascii): `\"`,
    `\\`, `\b \f \n \r \t`, `\u00XX` for other control characters and DEL, `\uXXXX` (lower-case hex)
    for every character beyond ASCII, a surrogate pair beyond the Basic Multilingual Plane. So a hash
    over JSON built here equals one Python computes over the same values. NULL gives NULL.
    Printable ASCII, most values, takes two replaces; other strings go character by character:
    DuckDB in a list comprehension, PostgreSQL in a subquery over the characters. -#}
{% macro json_string(expression) -%}
    {{ return(adapter.dispatch('json_string', 'calendly_elt')(expression)) }}
{%- endmacro %}

{% macro default__json_string(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ regexp_full_match(expression, '[ -~]*') }}
            then '"' || replace(replace({{ expression }}, '\', '\\'), '"', '\"') || '"'
        else '"' || (
            select string_agg({{ json_escaped_character('json_char', 'ascii(json_char)') }}, '' order by json_position)
            from regexp_split_to_table({{ expression }}, '') with ordinality as json_chars (json_char, json_position)
        ) || '"'
    end
{%- endmacro %}

{% macro duckdb__json_string(expression) -%}
    case
        when {{ expression }} is null then null
        when {{ regexp_full_match(expression, '[ -~]*') }}
            then '"' || replace(replace({{ expression }}, '\', '\\'), '"', '\"') || '"'
        else '"' || array_to_string(
            [{{ json_escaped_character('json_char', 'unicode(json_char)') }} for json_char in string_split({{ expression }}, '')],
            ''
        ) || '"'
    end
{%- endmacro %}

{#- One character (`character`, its code point `code_point`) as JSON text, per json_string. -#}
{% macro json_escaped_character(character, code_point) -%}
    case
        when {{ character }} = '"' then '\"'
        when {{ character }} = '\' then '\\'
        when {{ code_point }} = 8 then '\b'
        when {{ code_point }} = 9 then '\t'
        when {{ code_point }} = 10 then '\n'
        when {{ code_point }} = 12 then '\f'
        when {{ code_point }} = 13 then '\r'
        when {{ code_point }} between 32 and 126 then {{ character }}
        when {{ code_point }} < 65536 then '\u' || lpad(lower(to_hex({{ code_point }})), 4, '0')
        else '\u' || lower(to_hex(55296 + (({{ code_point }} - 65536) >> 10)))
            || '\u' || lower(to_hex(56320 + (({{ code_point }} - 65536) & 1023)))
    end
{%- endmacro %}
