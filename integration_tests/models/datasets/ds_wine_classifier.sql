-- Wine cultivar from 13 measurements on very different scales (proline ~1000, hue ~1): the scaling matters.
{{ config(materialized='ml_train', meta={
    'target': 'cultivar', 'algorithm': 'logistic_regression', 'id_columns': ['id'],
}) }}
select * from {{ ref('wine') }}
