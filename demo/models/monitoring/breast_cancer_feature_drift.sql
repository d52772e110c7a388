-- Each feature's daily distribution against the training baseline of the serving version.
{{ config(materialized='table') }}
{{ dbt_learn.ml_feature_drift(ref('breast_cancer_classifier'), ref('screenings_arrived'), time_column='screened_at',
                              bucket='1 day') }}
