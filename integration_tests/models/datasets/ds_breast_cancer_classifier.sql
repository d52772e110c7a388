-- Diagnosis from the 30 cell-nucleus features: a small random forest (trees: no scaling).
{{ config(materialized='ml_train', meta={
    'target': 'diagnosis', 'algorithm': 'random_forest_classifier', 'params': {'n_estimators': 50},
    'id_columns': ['id'],
}) }}
select * from {{ ref('breast_cancer') }}
