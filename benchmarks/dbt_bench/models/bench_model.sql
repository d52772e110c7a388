-- One fit on every row (no holdout), retrained on every run: the same work as the client pipelines.
{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': var('algorithm'), 'params': var('params', {}), 'id_columns': ['id'],
    'holdout_size': 0, 'retrain_policy': 'always',
}) }}
select * from {{ api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) }}
