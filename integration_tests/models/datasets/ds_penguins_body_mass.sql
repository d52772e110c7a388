-- Body mass from the other measurements, species, island and sex: linear regression, so the default preprocessing
-- imputes the missing numbers, scales them and one-hot encodes the three text columns.
{{ config(materialized='ml_train', meta={
    'target': 'body_mass_g', 'algorithm': 'linear_regression', 'id_columns': ['id'],
}) }}
select * from {{ ref('penguins') }} where body_mass_g is not null
