-- A tree ensemble: ordinal codes for text, NULLs passed through (random forests accept NaN), no scaling.
{{ config(materialized='ml_train', meta={
    'target': 'churned', 'algorithm': 'random_forest_classifier', 'id_columns': ['customer_id'],
    'exclude_columns': ['spend'], 'params': {'n_estimators': 30, 'max_depth': 6},
}) }}
select * from {{ ref('customers_mixed') }}
