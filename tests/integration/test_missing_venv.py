"""A server venv that cannot be imported (deleted, moved, half-installed) is an error naming the venv and saying how
to reinstall it, not a bare ModuleNotFoundError. The shared cluster is never touched: each case points
dbt_learn.installation at another path inside a transaction of a fresh admin connection (a fresh backend, so its
GD has no runtime loaded yet), calls a function, and rolls back."""

import psycopg
import pytest

from .conftest import query
from .harness import connection_info

ADVICE = ("the admin reinstalls it: make setup, or pip install the dbt-learn-runtime there and rerun "
          "dbt_learn.install")


def _error_with_site_packages(site_packages):
    """The error dbt_learn.runtime_info() raises in a fresh backend whose installation row points at site_packages
    (rolled back)."""
    with psycopg.connect(**connection_info(admin=True)) as conn:
        conn.execute("update dbt_learn.installation set site_packages = %s", [site_packages])
        with pytest.raises(psycopg.Error) as raised:
            conn.execute("select dbt_learn.runtime_info()")
        conn.rollback()
    message = raised.value.diag.message_primary
    # PL/Python prefixes every plpy.error with the exception's type; what follows is the whole message, no traceback.
    assert message.startswith("plpy.Error: dbt_learn: the server venv at "), message
    return message.removeprefix("plpy.Error: ")


def _installation(admin_conn):
    return query(admin_conn, "select site_packages, runtime_version from dbt_learn.installation")


def test_a_missing_server_venv_names_it_and_says_how_to_reinstall(admin_conn):
    before = _installation(admin_conn)
    missing = "/nonexistent/dbt_learn/server-venv/lib/python3/site-packages"
    message = _error_with_site_packages(missing)
    assert message.startswith(f"dbt_learn: the server venv at {missing} (the directory does not exist) cannot be "
                              "imported (ModuleNotFoundError: No module named 'dbt_learn'"), message
    assert message.endswith(ADVICE), message
    assert _installation(admin_conn) == before
    assert query(admin_conn, "select dbt_learn.runtime_info() is not null")[0][0]


def test_a_server_venv_without_the_runtime_names_it_and_says_how_to_reinstall(admin_conn):
    before = _installation(admin_conn)
    # A directory that exists on the server and holds no dbt_learn package: the cluster's data directory.
    empty = query(admin_conn, "select current_setting('data_directory')")[0][0]
    message = _error_with_site_packages(empty)
    assert message.startswith(f"dbt_learn: the server venv at {empty} cannot be imported (ModuleNotFoundError: "), \
        message
    assert message.endswith(ADVICE), message
    assert _installation(admin_conn) == before
    with psycopg.connect(**connection_info(admin=True), autocommit=True) as fresh:
        assert query(fresh, "select dbt_learn.runtime_info() is not null")[0][0]
