-- The benchmark's ml_train model on a deterministic sample of the table (meta.sample from var 'sample', e.g.
-- {rows: 10000000}): how a table larger than one training batch trains (python -m benchmarks.memory --sample-rows).
{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': var('algorithm'), 'params': var('params', {}), 'id_columns': ['id'],
    'holdout_size': 0, 'retrain_policy': 'always', 'sample': var('sample', {'fraction': 1}),
}) }}
select * from {{ api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) }}
