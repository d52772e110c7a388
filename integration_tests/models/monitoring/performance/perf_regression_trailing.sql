{{ config(materialized='table') }}
{#- 3-hour and 1-day windows of perf_regression_buckets. -#}
{{ dbt_learn.ml_trailing_performance(ref('perf_regression_buckets'), windows=['3 hours', '1 day']) }}
