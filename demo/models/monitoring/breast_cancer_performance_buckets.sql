-- Additive statistics per hour of screenings; each run recomputes the last day's buckets only.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='bucket_start') }}
{{ dbt_learn.ml_performance_buckets(
       ref('breast_cancer_outcomes'), bucket='1 hour', positive_value='malignant',
       score_column='probability_malignant', recompute='1 day',
       costs={'true_positive': 0, 'false_positive': -300, 'false_negative': -5000, 'true_negative': 0}) }}
