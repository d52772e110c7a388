-- The predicted probability of malignancy, day by day, against its distribution on the training holdout.
{{ config(materialized='table') }}
{{ dbt_learn.ml_prediction_drift(ref('breast_cancer_classifier'), ref('breast_cancer_screening_log'),
                                 time_column='screened_at', bucket='1 day', columns=['probability_malignant']) }}
