-- Explicit 1-5 ratings (repeated pairs averaged), factorised by NMF with 5 latent factors.
{{ config(materialized='ml_train', meta={
    'task': 'recommendation', 'user_column': 'user_id', 'item_column': 'item_code', 'rating_column': 'rating',
    'algorithm': 'nmf', 'params': {'n_components': 5, 'max_iter': 500}, 'top_k': 10,
}) }}
select * from {{ ref('rec_training') }}
