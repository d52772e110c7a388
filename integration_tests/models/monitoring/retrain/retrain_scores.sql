{{ config(materialized='table') }}
select id, prediction, model_version, scored_at
from {{ dbt_learn.ml_score(ref('retrain_model'), ref('linear_training')) }}
