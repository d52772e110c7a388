-- The baseline read from the package's ml_feature_stats model instead of the registry table.
{{ config(materialized='table') }}
{{ dbt_learn.ml_feature_drift(ref('drift_regressor'), ref('drift_events'), 'event_at',
                              baseline=ref('ml_feature_stats')) }}
