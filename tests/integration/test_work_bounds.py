"""A hyperparameter above the installation's work bound is refused through dbt, before any data moves: the message
names the model, the value, the bound and what to do; nothing is registered and the deployed version still serves."""

import pytest

from .conftest import latest_version, own_project, query

TRAINING = """{{ config(materialized='table') }}
select i as id, sin(i * 1.3) as x1, cos(i * 0.7) as x2, (sin(i * 1.3) > 0)::int as y from generate_series(1, 200) i"""
MODEL = """{{{{ config(materialized='ml_train', meta={{'target': 'y', 'algorithm': 'random_forest_classifier',
    'id_columns': ['id'], 'params': {{'n_estimators': {n}}}}}) }}}}
select * from {{{{ ref('bounds_training') }}}}
"""


@pytest.fixture(scope="module")
def bounds(tmp_path_factory, admin_conn):
    yield from own_project(tmp_path_factory, admin_conn, "bounds", {
        "models/bounds/bounds_training.sql": TRAINING, "models/bounds/bounds_model.sql": MODEL.format(n=10)},
        ["bounds_training", "bounds_model"])


def test_n_estimators_above_the_bound_is_refused_through_dbt(bounds, dbt_conn):
    bound = query(dbt_conn, "select coalesce((work_bounds->>'n_estimators')::int, 5000) "
                            "from dbt_learn.installation")[0][0]
    bounds.write("models/bounds/bounds_model.sql", MODEL.format(n=bound * 20))
    try:
        result = bounds.dbt("run", "-s", "bounds_model")
    finally:
        bounds.write("models/bounds/bounds_model.sql", MODEL.format(n=10))
    assert not result.success
    assert (f"model 'bounds_model': n_estimators={bound * 20} is above this database's bound of {bound} (work_bounds, "
            f"set by the admin in dbt_learn.install); lower it, or ask the admin to raise the bound."
            ) in result.message("bounds_model")
    assert "Traceback" not in result.message("bounds_model")
    assert latest_version(dbt_conn, bounds.schema, "bounds_model") == 1
    assert query(dbt_conn, "select dbt_learn.predict_class(%s, 'bounds_model', 0.5::float8, 0.5::float8)",
                 [bounds.schema])[0][0] is not None
