"""Failures mid-training (issue 13, Deliver 7): a fit that raises something other than ValueError/TypeError, an
estimator that cannot be pickled, and the dbt client killed with SIGKILL while the server trains. Each ends with a
message naming the model (no raw PL/Python traceback) or, for the kill, with the registry as it was: no version
without its artifact, no leftover relation, and the deployed version still serving; the next run trains."""

import os
import signal
import subprocess
import time

import pytest

from .conftest import latest_version, query
from .harness import REPO

GOOD = '''from sklearn.linear_model import LinearRegression


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"]})
    dbt.ref("linear_training")
    return LinearRegression()
'''
RAISING_FIT = '''import numpy as np
from sklearn.linear_model import LinearRegression


class Exploding(LinearRegression):
    def fit(self, X, y, sample_weight=None):
        raise FloatingPointError("the solver diverged")


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"]})
    dbt.ref("linear_training")
    return Exploding()
'''
UNPICKLABLE = '''import threading
from sklearn.linear_model import LinearRegression


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"]})
    frame = dbt.ref("linear_training")
    fitted = LinearRegression().fit(frame[["x1", "x2"]], frame["y"])
    fitted.lock_ = threading.Lock()  # cannot be pickled
    return fitted
'''
SLOW = GOOD.replace("    return LinearRegression()",
                    "    import time\n    time.sleep(20)\n    return LinearRegression()")


def _trained(project, name, code):
    path = f"models/matrix_failures/{name}.py"
    project.write(path, code)
    return path


def _state(conn, schema, name):
    versions = query(conn, "select v.version, a.version is not null from dbt_learn.model_versions as v "
                     "left join dbt_learn.model_artifacts as a using (model_schema, model_name, version) "
                     "where v.model_schema = %s and v.model_name = %s order by 1", [schema, name])
    serving = query(conn, "select dbt_learn.serving_version(%s, %s)", [schema, name])[0][0]
    return versions, serving


@pytest.mark.parametrize("case, code, fragments", [
    ("raising_fit", RAISING_FIT, ["mxf_raising_fit", "FloatingPointError", "the solver diverged"]),
    ("unpicklable", UNPICKLABLE, ["mxf_unpicklable", "lock"]),
], ids=["raising_fit", "unpicklable"])
def test_a_fit_or_pickling_failure_names_the_model_and_keeps_the_deployed_version(project, admin_conn, case, code,
                                                                                 fragments):
    schema, name = project.schema, f"mxf_{case}"
    path = _trained(project, name, GOOD)
    try:
        first = project.dbt("run", "-s", name)
        assert first.success, first.output
        before = _state(admin_conn, schema, name)
        project.write(path, code)
        result = project.dbt("run", "-s", name)
    finally:
        project.remove(path)
    assert not result.success
    message = result.message(name)
    head = message.split("CONTEXT:")[0]  # before the call stack Postgres appends to every PL/Python error
    for fragment in fragments:
        assert fragment in head, message
    assert "Traceback (most recent call last)" not in head and "PL/Python function" not in head, message
    assert _state(admin_conn, schema, name) == before


def _training_backend(conn, name):
    rows = query(conn, "select pid from pg_stat_activity where state = 'active' and query like %s and pid <> "
                 "pg_backend_pid()", [f"%{name}%"])
    return rows[0][0] if rows else None


def test_a_dbt_client_killed_mid_training_leaves_the_registry_whole(project, admin_conn):
    schema, name = project.schema, "mxf_killed"
    path = _trained(project, name, GOOD)
    try:
        first = project.dbt("run", "-s", name)
        assert first.success, first.output
        before = _state(admin_conn, schema, name)
        project.write(path, SLOW)
        client = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "dbt"), "run", "-s", name, "--project-dir", str(project.root),
             "--profiles-dir", os.environ["DBT_PROFILES_DIR"], "--target-path", str(project.root / "target_killed"),
             "--log-path", str(project.root / "logs_killed")], env={**os.environ, "DBT_LEARN_SCHEMA": schema},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline, backend = time.monotonic() + 120, None
        while backend is None and time.monotonic() < deadline and client.poll() is None:
            time.sleep(0.2)
            backend = _training_backend(admin_conn, name)
        assert backend is not None, "the training never started"
        os.kill(client.pid, signal.SIGKILL)
        client.wait()
        deadline = time.monotonic() + 90  # the server notices the lost client once the statement ends
        while time.monotonic() < deadline and query(admin_conn, "select 1 from pg_stat_activity where pid = %s",
                                                    [backend]):
            time.sleep(0.5)
        assert not query(admin_conn, "select 1 from pg_stat_activity where pid = %s", [backend])
        versions, serving = _state(admin_conn, schema, name)
        assert all(has_artifact for _, has_artifact in versions)  # no version without its artifact
        assert versions == before[0] and serving == before[1]
        leftovers = query(admin_conn, "select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                          "where n.nspname = %s and relname like %s", [schema, f"{name}%dbt%"])
        assert leftovers == []
        project.write(path, GOOD.replace("LinearRegression()", "LinearRegression(fit_intercept=True)"))
        again = project.dbt("run", "-s", name)
        assert again.success, again.output
        assert latest_version(admin_conn, schema, name) == before[0][-1][0] + 1
    finally:
        project.remove(path)
