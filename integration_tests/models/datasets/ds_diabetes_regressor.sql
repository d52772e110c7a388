-- Disease progression after one year from ten baseline variables: ridge regression.
{{ config(materialized='ml_train', meta={
    'target': 'progression', 'algorithm': 'ridge', 'params': {'alpha': 0.1}, 'id_columns': ['id'],
}) }}
select * from {{ ref('diabetes') }}
