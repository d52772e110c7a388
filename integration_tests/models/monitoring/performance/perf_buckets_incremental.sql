{#- The same buckets as perf_buckets, kept incrementally: each run recomputes the last hour, the newest bucket it has
    and later ones, and buckets with pending rows. -#}
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='bucket_start') }}
{{ dbt_learn.ml_performance_buckets(ref('perf_stream'), positive_value=true, score_column='probability_true',
                                    slices=['segment'], recompute='1 hour',
                                    costs={'true_positive': 120, 'false_positive': -15.5, 'false_negative': -40}) }}
