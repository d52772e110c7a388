"""dbt through a session-mode pgbouncer (scripts/pgbouncer.sh): the pooled backends keep scikit-learn imported between
dbt's connections, models built through the pool equal those built directly, and a backend still running the
runtime it loaded before a reinstall is refused with what to do."""

import subprocess

import pytest

from .conftest import query
from .harness import REPO

MODEL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select * from {{ ref('linear_training') }}
"""
SCORES = """{{ config(materialized='table') }}
select id, prediction from {{ dbt_learn.ml_score(ref('pooled_model'), ref('linear_new')) }}
"""
STALE_BACKEND = """
{% macro pretend_the_backend_loaded_an_older_runtime() %}
  {#- What a pooled backend looks like after a reinstall: it keeps the runtime module it imported before. -#}
  {% do run_query("select dbt_learn.loaded_runtime_version()") %}
  {% do run_query("do $$ STALE $$ language plpython3u") %}
  {% do dbt_learn.check_runtime() %}
{% endmacro %}
"""
# The same runtime version with another number; a runtime from before 0.8.0, whose module had no entry-point table.
STALE_MODULES = {
    "older version": "GD['dbt_learn'].__version__ = '0.0.1-loaded-before'",
    "before the entry points": "import types; "
                               "GD['dbt_learn'] = types.SimpleNamespace(__version__='0.0.1-loaded-before')",
}


def _pgbouncer(*args):
    completed = subprocess.run(["bash", str(REPO / "scripts" / "pgbouncer.sh"), *args], capture_output=True,
                               text=True, timeout=60)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout.strip()


@pytest.fixture(scope="module")
def pool_port():
    was_running = "runs on" in _pgbouncer("status")  # e.g. make demo's: left as it was
    _pgbouncer("start")
    try:
        yield int(_pgbouncer("port"))
    finally:
        if not was_running:
            _pgbouncer("stop")


def _pooled_backends(admin_conn, dbt_conn):
    """The dbt role's backends other than the test's own direct connection: after a dbt run, those the pool kept."""
    return {pid for (pid,) in query(admin_conn, "select pid from pg_stat_activity where usename = %s and pid <> %s",
                                    [dbt_conn.info.user, dbt_conn.info.backend_pid])}


def test_models_built_through_the_pool_equal_direct_ones_and_reuse_warm_backends(project, dbt_conn, admin_conn,
                                                                                 pool_port, monkeypatch):
    files = {"models/pooled/pooled_model.sql": MODEL, "models/pooled/pooled_scores.sql": SCORES}
    direct = project.dbt_with(files, "run", "-s", "pooled_model", "pooled_scores")
    assert direct.success, direct.output
    expected = query(dbt_conn, f'select id, prediction from "{project.schema}".pooled_scores order by id')
    monkeypatch.setenv("DBT_LEARN_PORT", str(pool_port))
    first = project.dbt_with(files, "run", "-s", "pooled_scores")
    assert first.success, first.output
    warm = _pooled_backends(admin_conn, dbt_conn)
    assert warm, "the pool kept no backend of the dbt role between dbt's connections"
    second = project.dbt_with(files, "run", "-s", "pooled_scores")
    assert second.success, second.output
    assert query(dbt_conn, f'select id, prediction from "{project.schema}".pooled_scores order by id') == expected
    # The second run scored on a backend the pool had kept, not a fresh one.
    assert warm & _pooled_backends(admin_conn, dbt_conn)


@pytest.mark.parametrize("stale", sorted(STALE_MODULES))
def test_a_backend_that_still_runs_an_older_runtime_is_refused_with_what_to_do(project, stale):
    project.write("macros/pretend_stale_backend.sql", STALE_BACKEND.replace("STALE", STALE_MODULES[stale]))
    try:
        result = project.dbt("run-operation", "pretend_the_backend_loaded_an_older_runtime", "--target", "admin")
    finally:
        project.remove("macros/pretend_stale_backend.sql")
    assert not result.success
    for words in ("still runs runtime 0.0.1-loaded-before", "connection pool", "RECONNECT",
                  "scripts/pgbouncer.sh reconnect"):
        assert words in result.output, result.output
