{{ config(materialized='table') }}
{{ dbt_learn.ml_trailing_performance(ref('plain_label_buckets'), windows=['1 day', '7 days'], every='day',
                                     slices=['region'], start='2024-03-01 00:00:00+00') }}
