{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='window_end') }}
{{ dbt_learn.ml_trailing_performance(ref('perf_buckets_incremental'), slices=['segment']) }}
