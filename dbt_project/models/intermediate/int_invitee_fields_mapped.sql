-- Company, job title and phone of each invitee, from the answers whose question text the field
-- mapping names (case-insensitive; several texts may feed one field; the first answered wins).
{%- set mapping = var('field_mapping') %}

with

answers as (
    select * from {{ ref('stg_calendly__invitee_answers') }}
),

mapped as (
    select
        invitee_row_id,
        case
            {%- for field, questions in mapping.items() %}
            when question_key in ({% for q in questions %}'{{ q | lower | replace("'", "''") }}'{% if not loop.last %}, {% endif %}{% endfor %}) then '{{ field }}'
            {%- endfor %}
        end as field,
        nullif(trim(answer), '') as answer,
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
        max(case when field = '{{ field }}' then answer end) as {{ field }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from ranked
    where answer_rank = 1
    group by invitee_row_id
)

select * from pivoted
