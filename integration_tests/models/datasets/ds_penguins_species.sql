-- Penguin species from the measurements, island and sex (text, NULL for 11 birds; 2 birds have no measurements):
-- a tree ensemble, so the default preprocessing encodes the categories as ordinals and keeps the NULLs for it.
{{ config(materialized='ml_train', meta={
    'target': 'species', 'algorithm': 'hist_gradient_boosting_classifier', 'params': {'max_iter': 50},
    'id_columns': ['id'],
}) }}
select * from {{ ref('penguins') }}
