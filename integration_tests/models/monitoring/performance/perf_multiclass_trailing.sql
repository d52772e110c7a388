{{ config(materialized='table') }}
{{ dbt_learn.ml_trailing_performance(ref('perf_multiclass_buckets'), windows=['1 day', '2 days'], every='day') }}
