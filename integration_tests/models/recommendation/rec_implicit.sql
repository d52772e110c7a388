-- Implicit feedback (no rating column: every interaction counts 1), factorised by TruncatedSVD with 5 latent
-- factors; ranking metrics at k=10 on a per-user 20% holdout.
{{ config(materialized='ml_train', meta={
    'task': 'recommendation', 'user_column': 'user_id', 'item_column': 'item_code',
    'algorithm': 'truncated_svd', 'params': {'n_components': 5}, 'top_k': 10,
}) }}
select user_id, item_code from {{ ref('rec_training') }}
