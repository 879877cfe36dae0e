-- Company, job title and phone of each invitee, from the answers whose question text the field
-- mapping names (case-insensitive; several texts may feed one field; the first answered wins).
-- The phone comes with its E.164 form and region (NULL when not a valid number; see the extract's
-- pipelines/calendly/phones.py: a number without a country code is read in the time zone's country).
{%- set mapping = var('field_mapping') %}
{#- A field whose mapping names no question stays empty (`in ()` is not SQL). #}
{%- set asked = {} %}
{%- for field, questions in mapping.items() if questions %}{% do asked.update({field: questions}) %}{% endfor %}

with

answers as (
    select * from {{ ref('stg_calendly__invitee_answers') }}
),

mapped as (
    select
        invitee_row_id,
        {%- if asked %}
        case
            {%- for field, questions in asked.items() %}
            when question_key in ({% for q in questions %}'{{ q | lower | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}) then '{{ field }}'
            {%- endfor %}
        end as field,
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as field,
        {%- endif %}
        nullif(trim(answer), '') as answer,
        phone_e164,
        phone_country,
        position
    from answers
),

ranked as (
    select
        *,
        row_number() over (partition by invitee_row_id, field order by position) as answer_rank
    from mapped
    where field is not null and answer is not null
),

pivoted as (
    select
        invitee_row_id,
        {%- for field in mapping %}
        max(case when field = '{{ field }}' then answer end) as {{ field }},
        {%- endfor %}
        max(case when field = 'phone' then phone_e164 end) as phone_e164,
        max(case when field = 'phone' then phone_country end) as phone_country
    from ranked
    where answer_rank = 1
    group by invitee_row_id
)

select * from pivoted
