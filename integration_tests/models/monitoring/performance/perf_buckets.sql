{{ config(materialized='table') }}
{{ dbt_learn.ml_performance_buckets(ref('perf_stream'), positive_value=true, score_column='probability_true',
                                    slices=['segment'],
                                    costs={'true_positive': 120, 'false_positive': -15.5, 'false_negative': -40}) }}
