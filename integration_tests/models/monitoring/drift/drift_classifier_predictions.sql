-- prediction (class shares), probability_false and probability_true per day.
{{ config(materialized='table') }}
{{ dbt_learn.ml_prediction_drift(ref('drift_classifier'), ref('drift_classifier_scores'), 'event_at') }}
