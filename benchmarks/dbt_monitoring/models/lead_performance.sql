{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='window_end') }}
{{ dbt_learn.ml_trailing_performance(ref('lead_performance_buckets'), windows=['3 hours', '1 day', '7 days'],
                                     every='hour', slices=['source']) }}
