"""kill -9 of the backend that is training (issue 13's matrix): the postmaster ends every session and recovers; the
registry is as it was (no version, no deployment, no leftover relation, the model's lock free), the deployed version
still serves, and the next run trains.

Own project copy and schema. It restarts every backend of the cluster, so it leaves the session's connections to
reconnect (conftest.SessionConnection) and waits until the cluster accepts connections again."""

import os
import signal
import threading
import time

import psycopg
import pytest

from .conftest import own_project, query, training_backend
from .harness import connection_info

TRAINING = "{{ config(materialized='table') }}\nselect i as id, " + ", ".join(
    f"sin(i * {k + 1}.37) as x{k}" for k in range(10)) + \
    ", (sin(i * 1.37) + sin(i * 7.91) > 0)::int as y from generate_series(1, 3000) as i"
MODEL = """{{{{ config(materialized='ml_train',
    meta={{'target': 'y', 'algorithm': 'gradient_boosting_classifier', 'id_columns': ['id'],
          'params': {{'n_estimators': {n}}}}}) }}}}
select * from {{{{ ref('crash_training') }}}}
"""


@pytest.fixture(scope="module")
def crash(tmp_path_factory, admin_conn):
    yield from own_project(tmp_path_factory, admin_conn, "crash", {
        "models/crash/crash_training.sql": TRAINING, "models/crash/crash_model.sql": MODEL.format(n=5)},
        ["crash_training", "crash_model"])


def _kill_when_training(schema, killed):
    """From another connection: wait until a backend runs the fit, then SIGKILL it (the server runs on this host)."""
    with psycopg.connect(**connection_info(admin=True), autocommit=True) as conn:
        pid = training_backend(conn, schema)
    if pid is not None:
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)


def _wait_for_the_cluster(seconds=120):
    deadline = time.monotonic() + seconds
    while True:
        try:
            with psycopg.connect(**connection_info(admin=True), autocommit=True) as conn:
                conn.execute("select 1")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _state(conn, schema):
    return (query(conn, "select version, data_fingerprint, artifact_sha256 from dbt_learn.model_versions "
                        "where model_schema = %s and model_name = 'crash_model' order by version", [schema]),
            query(conn, "select count(*) from dbt_learn.deployments where model_schema = %s", [schema]),
            query(conn, "select dbt_learn.serving_version(%s, 'crash_model')", [schema]),
            query(conn, "select relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                        "where n.nspname = %s order by 1", [schema]))


def test_a_training_backend_killed_with_sigkill_changes_nothing_and_the_next_run_trains(crash, admin_conn, dbt_conn):
    schema = crash.schema
    before = _state(admin_conn, schema)
    assert before[0] and before[2] == [(1,)]
    killed = []
    killer = threading.Thread(target=_kill_when_training, args=(schema, killed))
    killer.start()
    crash.write("models/crash/crash_model.sql", MODEL.format(n=3000))  # ~30 s: killed 1.5 s into the fit
    try:
        result = crash.dbt("run", "-s", "crash_model")
    finally:
        killer.join()
    assert killed, "the training backend was never seen"
    assert not result.success
    _wait_for_the_cluster()
    for conn in (admin_conn, dbt_conn):  # ended by the postmaster's restart: let them notice and reconnect
        try:
            conn.execute("select 1")
        except psycopg.OperationalError:
            pass
    assert _state(admin_conn, schema) == before  # no version, no deployment, no __dbt_tmp, v1 serves
    assert query(dbt_conn, "select dbt_learn.predict_class(%s, 'crash_model', " + ", ".join(["1.0::float8"] * 10)
                 + ")", [schema])[0][0] is not None
    crash.write("models/crash/crash_model.sql", MODEL.format(n=7))  # the lock is free: the next run trains
    rerun = crash.dbt("run", "-s", "crash_model")
    assert rerun.success, rerun.output
    assert query(admin_conn, "select dbt_learn.serving_version(%s, 'crash_model')", [schema]) == [(2,)]
