{{ config(materialized='table') }}
{{ dbt_learn.ml_prediction_drift(ref('drift_regressor'), ref('drift_regressor_scores'), 'event_at',
                                 columns='prediction') }}
