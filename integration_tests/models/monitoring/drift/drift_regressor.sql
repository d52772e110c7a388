-- A SQL model on two numeric features; a 25% holdout gives its prediction baseline.
{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': 'linear_regression', 'features': ['x1', 'x2'], 'id_columns': ['id'],
    'holdout_size': 0.25,
}) }}
select * from {{ ref('drift_training') }}
