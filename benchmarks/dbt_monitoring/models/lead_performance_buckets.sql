{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='bucket_start') }}
{{ dbt_learn.ml_performance_buckets(ref('lead_labels'), bucket='1 hour', slices=['source'], positive_value=true,
                                    score_column='probability_true', recompute='3 days',
                                    costs={'true_positive': 120, 'false_positive': -8, 'false_negative': 0,
                                           'true_negative': 0}) }}
