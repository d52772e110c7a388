"""Monitoring is plain SQL (issue 9, item 7): the chain from a prediction log loaded directly (seeds) to labels,
performance buckets, trailing windows and a coverage test builds in a database without PL/Python (the `plain`
target, a stand-in for a managed Postgres) and gives the same rows as on the main database. Drift and point-in-time
have the same check in their own test modules."""

import psycopg
import pytest

from .harness import connection_info

pytestmark = pytest.mark.integration

AS_OF = '{"dbt_learn_as_of": "2024-03-10 00:00:00+00"}'
CHAIN = ["+plain_label_performance", "--indirect-selection", "cautious", "--vars", AS_OF]
TABLES = ("labels_labelled", "plain_label_buckets", "plain_label_performance")


def _rows(conn, schema, table):
    with conn.cursor() as cursor:
        cursor.execute(f'select * from "{schema}"."{table}"')
        names = [d.name for d in cursor.description]
        return names, sorted(tuple(str(v) for v in row) for row in cursor.fetchall())


@pytest.fixture(scope="module")
def both(project):
    main = project.dbt("build", "-s", *CHAIN)
    plain = project.dbt("build", "-s", *CHAIN, "--target", "plain")
    info = dict(connection_info(), dbname=connection_info()["dbname"] + "_plain")
    with psycopg.connect(**info, autocommit=True) as conn:
        yield main, plain, conn
        conn.execute(f'drop schema if exists "{project.schema}" cascade')


def test_the_plain_database_has_no_pl_python(both):
    _, _, conn = both
    assert conn.execute("select count(*) from pg_language where lanname like 'plpython%'").fetchone()[0] == 0


def test_the_monitoring_chain_builds_and_its_test_runs_without_pl_python(both):
    main, plain, _ = both
    assert main.success, main.output
    assert plain.success, plain.output
    built = {r.node.name: str(r.status) for r in plain.results}
    for table in TABLES:
        assert built[table] == "success"
    assert any(name.startswith("dbt_learn_ml_label_coverage_plain") and status == "pass"
               for name, status in built.items()), built


@pytest.mark.parametrize("table", TABLES)
def test_the_plain_database_gives_the_same_rows(both, project, dbt_conn, table):
    _, _, conn = both
    names, rows = _rows(conn, project.schema, table)
    assert rows, f"{table} is empty"
    assert (names, rows) == _rows(dbt_conn, project.schema, table)
