{#- labels_expected at the latest snapshot at or before this run's as_of (the last one stands for any later time). -#}
select
    region, lead_id, decided_at, model_version, prediction, probability_true, probability_false,
    prediction_events, outcome, outcome_at, label, label_status, is_matured, has_conflicting_outcomes
from {{ ref('labels_expected') }}
where as_of = (select max(as_of) from {{ ref('labels_expected') }} where as_of <= {{ dbt_learn.as_of_sql() }})
