-- y = 1 + 2*x1 - 3*x2 exactly: ordinary least squares recovers it, so predictions are known in advance.
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select * from {{ ref('linear_training') }}
