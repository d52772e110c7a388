-- Clustering: three k-means segments of the iris measurements (no target; the species column is left out).
{{ config(materialized='ml_train', meta={
    'algorithm': 'k_means', 'params': {'n_clusters': 3, 'n_init': 10}, 'id_columns': ['id'],
    'exclude_columns': ['species'],
}) }}
select * from {{ ref('iris') }}
