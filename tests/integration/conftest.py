import pytest

from .harness import REPO, DbtProject, connect, fresh_schema


@pytest.fixture(scope="session")
def dbt_conn():
    with connect() as conn:
        yield conn


@pytest.fixture(scope="session")
def admin_conn():
    with connect(admin=True) as conn:
        yield conn


@pytest.fixture(scope="session")
def project(tmp_path_factory, admin_conn):
    """integration_tests/ built once (dbt build) into a fresh schema; tests add models to it as they need."""
    schema = fresh_schema()
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp("dbt"), schema)
    project.build = project.dbt("build", "--exclude", "tag:expect_failure")
    yield project
    for suffix in ("", "_dbt_learn_registry"):
        admin_conn.execute(f'drop schema if exists "{schema}{suffix}" cascade')


def query(conn, sql, params=None):
    return conn.execute(sql, params).fetchall()


def latest_version(conn, schema, model):
    return query(conn, "select max(version) from dbt_learn.model_versions where model_schema = %s and model_name = %s",
                 [schema, model])[0][0]
