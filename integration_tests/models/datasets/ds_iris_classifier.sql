-- Iris species from the four measurements: logistic regression, standardised by the default preprocessing.
{{ config(materialized='ml_train', meta={
    'target': 'species', 'algorithm': 'logistic_regression', 'id_columns': ['id'],
}) }}
select * from {{ ref('iris') }}
