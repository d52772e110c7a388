import time

import numpy as np
import pytest

from dbt_learn._transport import decode_training_rows

from .harness import REPO, DbtProject, connect, fresh_schema


class SessionConnection:
    """A session-long autocommit connection that opens a new one once the server has ended it: the crash test
    (test_crash_recovery.py) SIGKILLs a backend, and the postmaster then ends every session of the cluster."""

    def __init__(self, admin):
        self._admin = admin
        self._conn = connect(admin=admin)

    def __getattr__(self, name):
        if self._conn.closed or self._conn.broken:
            self._conn = connect(admin=self._admin)
        return getattr(self._conn, name)

    def close(self):
        self._conn.close()


@pytest.fixture(scope="session")
def dbt_conn():
    conn = SessionConnection(admin=False)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def admin_conn():
    conn = SessionConnection(admin=True)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def project(tmp_path_factory, admin_conn):
    """integration_tests/ built once (dbt build) into a fresh schema; tests add models to it as they need."""
    schema = fresh_schema()
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp("dbt"), schema)
    project.build = project.dbt("build", "--exclude", "tag:expect_failure")
    yield project
    drop_project(admin_conn, schema)


def own_project(tmp_path_factory, admin_conn, name, files, run):
    """For a module fixture (``yield from``): a copy of integration_tests/ on a fresh schema of its own, with ``files``
    written and the models ``run`` built, dropped at the end - for tests whose work must not touch the shared
    project (concurrent runs, interrupts, a backend killed, changed install settings)."""
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp(name), fresh_schema(name))
    for path, text in files.items():
        project.write(path, text)
    result = project.dbt("run", "-s", *run)
    assert result.success, result.output
    yield project
    drop_project(admin_conn, project.schema)


def drop_project(admin_conn, schema):
    """Drop a test project's schema and the schema of its package models (dbt_project.yml's suffix)."""
    for suffix in ("", "_dbt_learn_registry"):
        admin_conn.execute(f'drop schema if exists "{schema}{suffix}" cascade')


def training_backend(conn, schema, until=lambda: False, seconds=60):
    """The pid of the backend running dbt_learn.train_query for a model of ``schema``, once it is 1.5 s into the
    work (past the reads, into the fit), seen from ``conn``; None if ``until()`` turns true or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while not until() and time.monotonic() < deadline:
        rows = query(conn, "select pid from pg_stat_activity where query like %s and pid <> pg_backend_pid()",
                     ["%dbt_learn.train_query(%" + schema + "%"])
        if rows:
            time.sleep(1.5)
            return rows[0][0]
        time.sleep(0.1)
    return None


def query(conn, sql, params=None):
    return conn.execute(sql, params).fetchall()


def latest_version(conn, schema, model):
    return query(conn, "select max(version) from dbt_learn.model_versions where model_schema = %s and model_name = %s",
                 [schema, model])[0][0]


def load_table(conn, schema, name, frame):
    """A pandas frame as a table with an id column 1..n: numeric columns as double precision, others as text."""
    import pandas as pd

    numeric = pd.api.types.is_numeric_dtype
    columns = ", ".join(f'"{c}" {"double precision" if numeric(frame[c]) else "text"}' for c in frame.columns)
    conn.execute(f'create table "{schema}"."{name}" (id integer, {columns})')
    with conn.cursor().copy(f'copy "{schema}"."{name}" from stdin') as copy:
        for i, row in enumerate(frame.itertuples(index=False), 1):
            copy.write_row((i, *row))


def in_training_order(X, y):
    """The rows in the canonical order the runtime fits in: encoded as the training batch is (big-endian float8
    features, then a float8 target or an int4 index into the sorted class labels) and decoded by the runtime.
    Returns the features, the target (class indexes for a non-numeric target) and the sorted labels (or None)."""
    classes = sorted(set(y)) if y.dtype.kind not in "fiu" else None
    target = np.searchsorted(classes, y).astype(">i4") if classes else y.astype(">f8")
    records = np.empty(len(X), dtype=[("x", ">f8", (X.shape[1],)), ("y", target.dtype)])
    records["x"], records["y"] = X, target
    X_ordered, y_ordered = decode_training_rows(records.tobytes(), len(X), X.shape[1],
                                                "int4" if classes else "float8", model="offline")[:2]
    return X_ordered, y_ordered, classes
