-- A regressor on the same mixed columns, with a narrower category limit: 5 region columns, the rest in "other".
{{ config(materialized='ml_train', meta={
    'target': 'spend', 'algorithm': 'ridge', 'id_columns': ['customer_id'], 'exclude_columns': ['churned'],
    'preprocessing': {'max_categories': 5},
}) }}
select * from {{ ref('customers_mixed') }}
