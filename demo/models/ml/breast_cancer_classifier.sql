{{ config(
    materialized='ml_train',
    meta={
        'target': 'diagnosis',
        'algorithm': 'hist_gradient_boosting_classifier',
        'params': {'max_iter': 100, 'learning_rate': 0.1},
        'id_columns': ['patient_id'],
    },
) }}
select * from {{ ref('breast_cancer_training') }}
