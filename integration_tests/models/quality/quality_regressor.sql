-- A regressor with a holdout for the metric tests: ridge on y = 1 + 2*x1 - 3*x2 has r2 near 1 and a small rmse.
{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': 'ridge', 'params': {'alpha': 1.0}, 'id_columns': ['id'],
}) }}
select * from {{ ref('linear_training') }}
