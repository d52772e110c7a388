-- No registry at all: a model name and a hand-written baseline.
{{ config(materialized='table') }}
with drift as (
    {{ dbt_learn.ml_feature_drift('manual_model', ref('drift_events'), 'event_at',
                                  baseline=ref('drift_manual_baseline')) }}
)
select * from drift
