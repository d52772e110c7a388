-- The digit in an 8x8 image from its 64 pixel intensities: logistic regression.
{{ config(materialized='ml_train', meta={
    'target': 'digit', 'algorithm': 'logistic_regression', 'params': {'max_iter': 500}, 'id_columns': ['id'],
}) }}
select * from {{ ref('digits') }}
