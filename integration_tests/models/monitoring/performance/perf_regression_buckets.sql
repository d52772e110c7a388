{{ config(materialized='table') }}
{{ dbt_learn.ml_performance_buckets(ref('perf_regression_labelled'), task='regression', bucket='30 minutes') }}
