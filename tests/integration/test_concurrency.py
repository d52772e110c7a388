"""Concurrency and the per-model lock (issue 13): concurrent runs of one model end with no failure, one version for
identical data and no leftover relations; scoring keeps serving during a training; the lock cannot be taken by a role
that may not change the model, and waiting for it is bounded by the admin's lock_wait_seconds."""

import os
import subprocess
import time

import psycopg
import pytest

from .conftest import query
from .harness import REPO, DbtProject, connection_info, fresh_schema

MODEL = "conc_model"
# A random forest on 4,000 rows: a fit of a second or two, long enough for concurrent runs to overlap.
MODEL_SQL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'random_forest_regressor',
                                          'params': {'n_estimators': 60}, 'random_state': 1,
                                          'id_columns': ['id'], 'importances': false}) }}
select g as id, g::float8 as x1, (g % 7)::float8 as x2,
       (2 * g + (g % 7) + {{ var('conc_shift', 0) }})::float8 as y
from generate_series(1, 4000) as g
"""
FRAME = "conc_frame"
FRAME_PY = '''def model(dbt, session):
    import pandas as pd

    dbt.config(materialized="python_table")
    return pd.DataFrame({"id": range(1000), "value": [i * 0.5 for i in range(1000)]})
'''
DBT = REPO / ".venv" / "bin" / "dbt"


@pytest.fixture(scope="module")
def conc(tmp_path_factory, admin_conn):
    """A copy of integration_tests/ whose only model run here is conc_model, trained once (v1)."""
    schema = fresh_schema("conc")
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp("conc"), schema)
    project.write(f"models/concurrency/{MODEL}.sql", MODEL_SQL)
    project.write(f"models/concurrency/{FRAME}.py", FRAME_PY)
    result = project.dbt("run", "-s", MODEL)
    assert result.success, result.output
    yield project
    for suffix in ("", "_dbt_learn_registry"):
        admin_conn.execute(f'drop schema if exists "{schema}{suffix}" cascade')
    admin_conn.execute("delete from dbt_learn.model_locks where model_schema = %s", [schema])


def _start_run(project, index, *args, model=MODEL):
    """``dbt run -s conc_model`` in its own process (its own target and log folders, the same project)."""
    env = {**os.environ, "DBT_LEARN_SCHEMA": project.schema}
    return subprocess.Popen(
        [str(DBT), "run", "-s", model, *args, "--project-dir", str(project.root),
         "--profiles-dir", os.environ["DBT_PROFILES_DIR"], "--target-path", str(project.root / f"target_{index}"),
         "--log-path", str(project.root / f"logs_{index}")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(process, timeout=240):
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        return None, output
    return process.returncode, output


def _versions(conn, schema):
    return query(conn, "select version, data_fingerprint from dbt_learn.model_versions "
                       "where model_schema = %s and model_name = %s order by version", [schema, MODEL])


def _serving(conn, schema):
    return query(conn, "select dbt_learn.serving_version(%s, %s)", [schema, MODEL])[0][0]


def _leftovers(conn, schema):
    return query(conn, "select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                       "where n.nspname = %s and (relname like '%%dbt_tmp%%' or relname like '%%dbt_backup%%')",
                 [schema])


def _predict(conn, schema):
    return query(conn, "select dbt_learn.predict(%s, %s, '{\"x1\": 10, \"x2\": 3}'::jsonb)", [schema, MODEL])[0][0]


def test_four_concurrent_runs_one_version_no_failure_no_leftovers(conc, dbt_conn):
    before = _versions(dbt_conn, conc.schema)
    runs = [_start_run(conc, i, "--vars", "{conc_shift: 1}") for i in range(4)]
    finished = [_finish(run) for run in runs]
    failures = [output[-3000:] for code, output in finished if code != 0]
    assert not failures, "\n----\n".join(failures)
    after = _versions(dbt_conn, conc.schema)
    new = after[len(before):]
    assert len(new) == 1, after  # identical data and configuration: one new version, not one per run
    assert len({fingerprint for _, fingerprint in after}) == len(after)
    assert _serving(dbt_conn, conc.schema) == new[0][0]
    assert _leftovers(dbt_conn, conc.schema) == []
    assert query(dbt_conn, f'select max(version) from "{conc.schema}"."{MODEL}"')[0][0] == new[0][0]


def test_four_concurrent_runs_of_a_python_table_model_no_failure_no_leftovers(conc, dbt_conn):
    """python_table swaps its table through __dbt_tmp/__dbt_backup like ml_train: the same lock and catalog."""
    runs = [_start_run(conc, 10 + i, model=FRAME) for i in range(4)]
    finished = [_finish(run) for run in runs]
    failures = [output[-3000:] for code, output in finished if code != 0]
    assert not failures, "\n----\n".join(failures)
    assert _leftovers(dbt_conn, conc.schema) == []
    assert query(dbt_conn, f'select count(*), sum(value) from "{conc.schema}"."{FRAME}"')[0] == (1000, 249750.0)


def test_scoring_keeps_serving_while_the_model_trains(conc, dbt_conn, admin_conn):
    serving = _serving(dbt_conn, conc.schema)
    expected = _predict(dbt_conn, conc.schema)
    run = _start_run(conc, 9, "--full-refresh")
    try:
        deadline = time.monotonic() + 120
        while not query(admin_conn, "select 1 from pg_stat_activity where state = 'active' "
                                    "and query like '%%dbt_learn.train_query%%' and query like %s",
                        [f"%{conc.schema}%"]):
            assert run.poll() is None and time.monotonic() < deadline, "the training never started"
            time.sleep(0.05)
        started = time.monotonic()
        answer = _predict(dbt_conn, conc.schema)
        took = time.monotonic() - started
        assert run.poll() is None  # the training was still running while it scored
    finally:
        code, output = _finish(run)
    assert answer == expected and took < 2.0, took
    assert code == 0, output[-3000:]
    assert _serving(dbt_conn, conc.schema) == serving + 1


@pytest.fixture
def outsider(admin_conn):
    """A role with CONNECT only (no grant on dbt_learn, no privilege on the model's schema)."""
    name = fresh_schema("conc_outsider")
    admin_conn.execute(f"create role {name} login password 'outsider'")
    admin_conn.execute(f"grant connect on database {connection_info()['dbname']} to {name}")
    info = {**connection_info(), "user": name, "password": "outsider"}
    yield name, info
    admin_conn.execute(f"revoke all on database {connection_info()['dbname']} from {name}")
    admin_conn.execute(f"drop owned by {name}")
    admin_conn.execute(f"drop role {name}")


def test_a_connect_only_role_cannot_hold_the_model_lock_hostage(conc, dbt_conn, outsider):
    name, info = outsider
    with psycopg.connect(**info, autocommit=True) as hostile:
        # The key of the lock as it used to be: computable by anyone, held forever.
        hostile.execute("select pg_advisory_lock(hashtextextended('dbt_learn.model:' || %s || '.' || %s, 0))",
                        [conc.schema, MODEL])
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            hostile.execute("select dbt_learn.lock_model(%s, %s)", [conc.schema, MODEL])
        before = _versions(dbt_conn, conc.schema)
        code, output = _finish(_start_run(conc, 5, "--full-refresh"), timeout=120)
        assert code == 0, output[-3000:]
        assert len(_versions(dbt_conn, conc.schema)) == len(before) + 1


def test_a_role_without_create_on_the_schema_may_not_lock_the_model(conc, admin_conn, outsider):
    name, info = outsider
    # Even granted the function itself, a role that may not change the model's schema is refused.
    admin_conn.execute(f"grant usage on schema dbt_learn to {name}")
    admin_conn.execute(f"grant execute on function dbt_learn.lock_model(text, text) to {name}")
    try:
        with psycopg.connect(**info, autocommit=True) as other:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as refused:
                other.execute("select dbt_learn.lock_model(%s, %s)", [conc.schema, MODEL])
    finally:
        admin_conn.execute(f"revoke all on function dbt_learn.lock_model(text, text) from {name}")
        admin_conn.execute(f"revoke all on schema dbt_learn from {name}")
    assert f"model '{MODEL}': role {name} may not lock it" in str(refused.value)
    assert f"CREATE on schema {conc.schema}" in str(refused.value)


@pytest.fixture
def short_lock_wait(admin_conn):
    previous = query(admin_conn, "select lock_wait_seconds from dbt_learn.installation")[0][0]
    admin_conn.execute("update dbt_learn.installation set lock_wait_seconds = 2")
    yield 2
    admin_conn.execute("update dbt_learn.installation set lock_wait_seconds = %s", [previous])


@pytest.mark.parametrize("args", [["--full-refresh"], []], ids=["training", "unchanged_swap_only"])
def test_waiting_for_the_lock_is_bounded_with_a_clear_error(conc, dbt_conn, short_lock_wait, args):
    before, serving = _versions(dbt_conn, conc.schema), _serving(dbt_conn, conc.schema)
    expected = _predict(dbt_conn, conc.schema)
    with psycopg.connect(**connection_info(admin=True)) as holder:  # a transaction that holds the lock
        holder.execute("select dbt_learn.lock_model(%s, %s)", [conc.schema, MODEL])
        started = time.monotonic()
        code, output = _finish(_start_run(conc, 6, *args), timeout=120)
        took = time.monotonic() - started
        holder.rollback()
    assert code != 0, output[-3000:]
    assert (f"model '{MODEL}': another run has held its lock for {short_lock_wait} s (training, deploying or "
            f"purging it); wait for it to finish and rerun, or ask the admin to raise lock_wait_seconds "
            f"(dbt_learn.install).") in output, output[-3000:]
    assert "Traceback" not in output
    assert took < 60
    assert _versions(dbt_conn, conc.schema) == before and _serving(dbt_conn, conc.schema) == serving
    assert _predict(dbt_conn, conc.schema) == expected
    assert _leftovers(dbt_conn, conc.schema) == []
    assert query(dbt_conn, f'select max(version) from "{conc.schema}"."{MODEL}"')[0][0] == before[-1][0]


def test_the_lock_is_a_row_lock_nobody_else_can_take(admin_conn):
    """No advisory lock: a key visible in pg_locks could be taken by anyone; the row lives in a table only the owner
    reads and writes."""
    assert query(admin_conn, "select has_table_privilege(%s, 'dbt_learn.model_locks', 'SELECT, UPDATE')",
                 [connection_info()["user"]])[0][0] is False
    source = query(admin_conn, "select prosrc from pg_proc where oid = 'dbt_learn.lock_model(text, text)'"
                               "::regprocedure")[0][0]
    assert "advisory" not in source

