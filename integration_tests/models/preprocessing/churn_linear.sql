-- The table as it is: text, date, timestamp, boolean and NULLs, with the default preprocessing (impute + indicator,
-- standardise, one-hot, date parts) in front of a logistic regression; a decision threshold of 0.4.
{{ config(materialized='ml_train', meta={
    'target': 'churned', 'algorithm': 'logistic_regression', 'id_columns': ['customer_id'],
    'exclude_columns': ['spend'], 'threshold': 0.4, 'params': {'max_iter': 1000},
}) }}
select * from {{ ref('customers_mixed') }}
