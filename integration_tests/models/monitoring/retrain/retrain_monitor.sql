-- A monitor in its simplest shape: one period per run (window_end = the run's as-of moment) and a metric column.
{{ config(materialized='table', alias='retrain_monitor_by_run') }}
select
    {{ dbt_learn.as_of_sql() }} as window_end,
    avg(abs(s.prediction - t.y))::float8 as mae,
    count(*) as n_predictions,
    max(s.model_version) as model_version
from {{ ref('retrain_scores') }} as s
join {{ ref('linear_training') }} as t using (id)
