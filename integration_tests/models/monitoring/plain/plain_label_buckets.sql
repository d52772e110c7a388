-- Monitoring from a prediction log loaded directly (the labels seeds), built on Postgres without PL/Python too.
{{ dbt_learn.ml_performance_buckets(ref('labels_labelled'), bucket='1 hour', slices=['region'], positive_value=true,
                                    score_column='probability_true',
                                    costs={'true_positive': 10, 'false_positive': -2, 'false_negative': -5,
                                           'true_negative': 0}) }}
