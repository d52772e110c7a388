-- The loop closed: retrain_monitor (below) reads this model's scores; its newest period's mae above max_value trains
-- a new version on the next run. The monitor is named, not ref()'d (a ref would be a cycle), and has an alias, so
-- dbt_learn finds it through the project's graph.
{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': 'ridge', 'id_columns': ['id'],
    'retrain_on': [{'monitor': 'retrain_monitor', 'metric': 'mae',
                    'max_value': var('retrain_fixture_max_mae', 1000000000)}],
}) }}
select id, x1, x2, y from {{ ref('linear_training') }}
