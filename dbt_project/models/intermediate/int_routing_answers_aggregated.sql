-- The routing-form answers behind a booking, one row per submission that led to an invitee.
with

submissions as (
    select * from {{ ref('stg_calendly__routing_form_submissions') }}
),

answers as (
    select * from {{ ref('stg_calendly__routing_form_answers') }}
),

forms as (
    select * from {{ ref('stg_calendly__routing_forms') }}
),

aggregated as (
    select
        submissions.routing_form_submission_uri,
        forms.routing_form_name,
        {{ dbt.listagg(dbt.concat(['answers.question', "': '", 'answers.answer']), "'; '", "order by answers.question") }}
            as routing_form_answers
    from submissions
    left join forms on submissions.routing_form_uri = forms.routing_form_uri
    left join answers on submissions.submission_row_id = answers.submission_row_id
    group by submissions.routing_form_submission_uri, forms.routing_form_name
)

select * from aggregated
