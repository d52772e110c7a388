-- Every feature of the classifier (x1, x2, channel) per day, against its deployed version's training baseline.
{{ config(materialized='table') }}
{{ dbt_learn.ml_feature_drift(ref('drift_classifier'), ref('drift_events'), 'event_at') }}
