-- Trailing performance every hour over the last 3 hours, day and week, with the label-free accuracy estimate.
{{ config(materialized='table') }}
{{ dbt_learn.ml_trailing_performance(ref('breast_cancer_performance_buckets'), windows=['3 hours', '1 day', '7 days'],
                                     every='hour') }}
