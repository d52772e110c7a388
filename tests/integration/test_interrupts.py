"""A statement timeout, pg_cancel_backend or pg_terminate_backend stops a long fit or scoring call within a few
seconds (before, they waited for the fit to end: 30-46 s), registers nothing, and the deployed version still serves.

Own project copy and schema (only this file's models are run): no `dbt build` of integration_tests."""

import threading
import time

import numpy as np
import psycopg
import pytest

from .conftest import latest_version, own_project, query, training_backend
from .harness import connection_info

FEATURES = 20
TRAINING = "{{ config(materialized='table') }}\nselect i as id, " + ", ".join(
    f"sin(i * {k + 1}.37) as x{k}" for k in range(FEATURES)) + \
    ", (sin(i * 1.37) + sin(i * 7.91) > 0)::int as y from generate_series(1, 3000) as i"
MODEL = """{{{{ config(materialized='ml_train', pre_hook="{hook}",
    meta={{'target': 'y', 'algorithm': 'gradient_boosting_classifier', 'id_columns': ['id'],
          'params': {{'n_estimators': {n}}}}}) }}}}
select * from {{{{ ref('intr_training') }}}}
"""
# 3000 trees on 3,000 x 20 rows: ~35 s on the 2-core test machine, uninterrupted.
SLOW = 3000
ARGS = ", ".join("1.0::float8" for _ in range(FEATURES))


def _model(n, hook="select 1"):
    return MODEL.format(n=n, hook=hook)


@pytest.fixture(scope="module")
def intr(tmp_path_factory, admin_conn):
    yield from own_project(tmp_path_factory, admin_conn, "intr", {
        "models/intr/intr_training.sql": TRAINING, "models/intr/intr_model.sql": _model(5)},
        ["intr_training", "intr_model"])


def _serves(conn, schema):
    assert query(conn, "select dbt_learn.serving_version(%s, 'intr_model')", [schema])[0][0] == 1
    assert query(conn, f"select dbt_learn.predict_class(%s, 'intr_model', {ARGS})", [schema])[0][0] is not None


def _run_slow(project, hook="select 1"):
    project.write("models/intr/intr_model.sql", _model(SLOW, hook))
    try:
        started = time.perf_counter()
        result = project.dbt("run", "-s", "intr_model")
        return result, time.perf_counter() - started
    finally:
        project.write("models/intr/intr_model.sql", _model(5))


def _signal_when_training(schema, function, stop):
    """From another connection: wait until the dbt backend runs the fit, then call pg_<function>_backend on it."""
    with psycopg.connect(**connection_info(admin=True), autocommit=True) as conn:
        pid = training_backend(conn, schema, until=stop.is_set)
        if pid is not None:
            stop.sent = time.perf_counter()
            query(conn, f"select pg_{function}_backend(%s)", [pid])


def test_a_statement_timeout_stops_a_fit_within_seconds(intr, dbt_conn):
    schema = intr.schema
    result, elapsed = _run_slow(intr, hook="set statement_timeout = '4s'")
    assert not result.success
    assert "canceling statement due to statement timeout" in result.message("intr_model")
    assert "Traceback" not in result.message("intr_model").split("CONTEXT")[0]
    assert elapsed < 4 + 8, elapsed  # dbt's own start and the reads, plus at most a few seconds past the timeout
    assert latest_version(dbt_conn, schema, "intr_model") == 1
    _serves(dbt_conn, schema)


@pytest.mark.parametrize("function, message", [("cancel", "canceling statement due to user request"),
                                               ("terminate", "")])
def test_a_cancel_or_terminate_stops_a_fit_within_seconds(intr, dbt_conn, function, message):
    schema = intr.schema
    stop = threading.Event()
    watcher = threading.Thread(target=_signal_when_training, args=(schema, function, stop))
    watcher.start()
    try:
        result, _ = _run_slow(intr)
        ended = time.perf_counter()
    finally:
        stop.set()
        watcher.join()
    assert not result.success
    assert message in result.message("intr_model")
    assert ended - stop.sent < 5, ended - stop.sent
    assert latest_version(dbt_conn, schema, "intr_model") == 1
    _serves(dbt_conn, schema)


@pytest.fixture(scope="module")
def trees(intr):
    """intr_trees v1: 150 extra trees, to score with."""
    intr.write("models/intr/intr_trees.sql", """{{ config(materialized='ml_train', meta={'target': 'x0',
        'algorithm': 'extra_trees_regressor', 'params': {'n_estimators': 150}, 'holdout_size': 0,
        'id_columns': ['id'], 'exclude_columns': ['y']}) }}
select * from {{ ref('intr_training') }}""")
    result = intr.dbt("run", "-s", "intr_trees")
    assert result.success, result.output
    return intr


def test_a_statement_timeout_stops_a_long_scoring_batch(intr, trees, dbt_conn):
    """One big batch (dbt_learn.predict_batch -> predict_into_temp; ml_score's chunks call plpy between chunks):
    150 extra trees on 300,000 rows predict for ~15 s, tree by tree; the timeout stops them within seconds."""
    schema = intr.schema
    rows = np.random.default_rng(0).normal(size=(300_000, FEATURES - 1)).astype(">f8").tobytes()
    with psycopg.connect(**connection_info(), autocommit=True) as conn:
        # The version loaded (imports, deserialization: seconds) in this backend first: the timeout is for scoring.
        conn.execute("select count(*) from dbt_learn.predict_batch(%s, 'intr_trees', 1, 1, %s, null)",
                     [schema, rows[:8 * (FEATURES - 1)]])
        conn.execute("set statement_timeout = '3s'")
        started = time.perf_counter()
        with pytest.raises(psycopg.errors.QueryCanceled) as raised:
            conn.execute("select count(*) from dbt_learn.predict_batch(%s, 'intr_trees', 1, 300000, %s, null)",
                         [schema, rows])
        elapsed = time.perf_counter() - started
    assert "canceling statement due to statement timeout" in str(raised.value)
    assert elapsed < 3 + 5, elapsed  # 45 MB sent and decoded, then the trees until the timeout and a few seconds
    assert query(dbt_conn, "select count(*) from dbt_learn.predict_batch(%s, 'intr_trees', 1, 1, %s, null)",
                 [schema, rows[:8 * (FEATURES - 1)]])[0][0] == 1
    _serves(dbt_conn, schema)


def test_a_statement_timeout_stops_ml_score_streaming(intr, trees, dbt_conn):
    """ml_score (dbt_learn.score_relation): the timeout fires while the backend loads the version (seconds for 150
    trees: a nested PL/Python call, load_scoring_model) and stops it there (before: 16 s, at the load's end)."""
    schema = intr.schema
    columns = ", ".join(f"sin(i * {k + 2}.11) as x{k + 1}" for k in range(FEATURES - 1))
    files = {"models/intr/intr_rows.sql": f"{{{{ config(materialized='table') }}}}\nselect i as id, {columns} "
                                          f"from generate_series(1, 300000) as i",
             "models/intr/intr_scores.sql": "{{ config(materialized='table', pre_hook=\"set statement_timeout = "
                                            "'3s'\") }}\nselect * from {{ dbt_learn.ml_score(ref('intr_trees'), "
                                            "ref('intr_rows')) }}"}
    assert intr.dbt_with(files, "run", "-s", "intr_rows").success
    started = time.perf_counter()
    result = intr.dbt_with(files, "run", "-s", "intr_scores")
    elapsed = time.perf_counter() - started
    assert not result.success
    assert "canceling statement due to statement timeout" in result.message("intr_scores")
    assert elapsed < 3 + 7, elapsed  # dbt's start and reads, then the timeout and a few seconds
    _serves(dbt_conn, schema)
