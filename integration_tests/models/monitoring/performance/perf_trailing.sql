{{ config(materialized='table') }}
{{ dbt_learn.ml_trailing_performance(ref('perf_buckets'), slices=['segment']) }}
