{{ config(materialized='view') }}
{#- perf_labelled as it was known at as_of: decisions after as_of are not there yet, and a label becomes known
    6 hours (the maturity) after its decision. Moving dbt_learn_as_of replays the stream. -#}
{%- set young = "decided_at > " ~ dbt_learn.as_of_sql() ~ " - interval '6 hours'" %}
select
    key,
    decided_at,
    model_version,
    prediction,
    probability_true,
    probability_false,
    case when {{ young }} then null else label end as label,
    case when {{ young }} then 'pending' else label_status end as label_status,
    not {{ young }} as is_matured,
    segment
from {{ ref('perf_labelled') }}
where decided_at <= {{ dbt_learn.as_of_sql() }}
