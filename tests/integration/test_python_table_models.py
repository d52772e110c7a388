"""Ordinary dbt Python models (materialized='python_table' / 'python_incremental') run inside Postgres: what they
return is stored faithfully, as a table the dbt role owns, and their errors point at the user's file."""

import datetime
import decimal

import numpy as np
import pandas as pd
import psycopg
import pytest

from .conftest import query
from .harness import REPO, DbtProject, fresh_schema

SOURCES = """version: 2
sources:
  - name: raw
    schema: "{{ target.schema }}"
    tables: [{name: frame_events}]
"""
BASE = "select g as id, (g * 1.5)::float8 as amount, 'k' || (g % 2) as kind from generate_series(1, 7) g"

SUMMARY = '''def model(dbt, session):
    dbt.config(materialized="python_table")
    events = dbt.source("raw", "frame_events")
    base = dbt.ref("frame_base")
    joined = events.merge(base, on="id")
    summary = joined.groupby("kind", as_index=False).agg(n=("id", "size"), total=("amount", "sum"))
    summary["Mean Value"] = joined.groupby("kind")["value"].mean().to_numpy()
    return summary
'''

# Shared by the model and the test: every dtype the materialization maps, with missing values.
TYPED_FRAME = '''
def typed_frame():
    import datetime, decimal
    import numpy as np
    import pandas as pd

    return pd.DataFrame({
        "int64": np.array([1, -2, 2**40], dtype=np.int64),
        "Nullable Int": pd.array([7, None, -9], dtype="Int64"),
        "float64": [0.1, np.nan, -np.inf],
        "flag": [True, False, True],
        "maybe": pd.array([True, None, False], dtype="boolean"),
        "stamp": pd.to_datetime(["2024-02-29 12:00:00.123456", None, "1999-12-31 23:59:59.000000"]),
        "zoned": pd.to_datetime(["2024-02-29 12:00:00+02:00", "2000-01-01 00:00:00+00:00", None], utc=True),
        "day": [datetime.date(2024, 2, 29), None, datetime.date(1970, 1, 1)],
        "word": ["héllo", None, "with space"],
        "objtext": pd.Series(["a", None, "c"], dtype=object),
        "band": pd.Categorical(["low", "high", None]),
        "amount": [decimal.Decimal("12.50"), None, decimal.Decimal("-0.000123")],
        "MixedCase": np.array([1.5, 2.5, 3.5], dtype=np.float32),
    })
'''
TYPED = TYPED_FRAME + '''

def model(dbt, session):
    dbt.config(materialized="python_table")
    frame = typed_frame()
    return frame.iloc[:0] if dbt.config.get("alias") == "typed_empty" else frame
'''
EXPECTED_TYPES = {
    "int64": "bigint", "Nullable Int": "bigint", "float64": "double precision", "flag": "boolean",
    "maybe": "boolean", "stamp": "timestamp without time zone", "zoned": "timestamp with time zone", "day": "date",
    "word": "text", "objtext": "text", "band": "text", "amount": "numeric", "MixedCase": "real",
}

INCREMENTAL = '''def model(dbt, session):
    dbt.config(materialized="python_incremental")
    base = dbt.ref("frame_base")
    if dbt.is_incremental:
        existing = session.table(dbt.this)
        new = base[base["id"] > existing["id"].max()].copy()
        new["loaded_by"] = "incremental"
        return new
    first = base[base["id"] <= 3].copy()
    first["loaded_by"] = "full"
    return first
'''

BROKEN = '''def model(dbt, session):
    dbt.config(materialized="python_table")
    base = dbt.ref("frame_base")
    ratio = len(base) / 0
    return base
'''


@pytest.fixture(scope="module")
def frames(tmp_path_factory, dbt_conn, admin_conn):
    """A project of its own (no full build): the base model and the source table the models read."""
    schema = fresh_schema("pyt")
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp("pytables"), schema)
    project.write("models/python_tables/sources.yml", SOURCES)
    project.write("models/python_tables/frame_base.sql", BASE)
    dbt_conn.execute(f'create schema "{schema}"')
    dbt_conn.execute(f'create table "{schema}".frame_events as '
                     f"select (g % 7) + 1 as id, g * 0.25 as value from generate_series(1, 40) g")
    result = project.dbt("run", "-s", "frame_base")
    assert result.success, result.output
    yield project
    admin_conn.execute(f'drop schema if exists "{schema}" cascade')


def _run(project, name, code, *extra):
    return project.dbt_with({f"models/python_tables/{name}.py": code}, "run", "-s", name, *extra)


def _frame(conn, sql):
    cursor = conn.execute(sql)
    return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def test_a_python_table_reads_refs_and_sources_and_is_owned_by_the_dbt_role(frames, dbt_conn):
    result = _run(frames, "frame_summary", SUMMARY)
    assert result.success, result.output
    events = _frame(dbt_conn, f'select id, value::float8 as value from "{frames.schema}".frame_events')
    base = _frame(dbt_conn, f'select * from "{frames.schema}".frame_base')
    joined = events.merge(base, on="id")
    expected = joined.groupby("kind").agg(n=("id", "size"), total=("amount", "sum"), mean=("value", "mean"))
    stored = _frame(dbt_conn, f'select kind, n, total, "Mean Value" from "{frames.schema}".frame_summary')
    stored = stored.set_index("kind").sort_index()
    assert stored["n"].tolist() == expected["n"].tolist()
    np.testing.assert_allclose(stored["total"], expected["total"])
    np.testing.assert_allclose(stored["Mean Value"].astype(float), expected["mean"])
    owner = query(dbt_conn, """select pg_get_userbyid(c.relowner), c.relkind from pg_class c
                               join pg_namespace n on n.oid = c.relnamespace
                               where n.nspname = %s and c.relname = 'frame_summary'""", [frames.schema])
    assert owner == [(query(dbt_conn, "select current_user")[0][0], "r")]


def _python_value(value):
    if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    return value


def test_every_dtype_round_trips_with_nulls_and_mixed_case_names(frames, dbt_conn):
    namespace = {}
    exec(TYPED_FRAME, namespace)  # the very frame the model returns, built here offline
    frame = namespace["typed_frame"]()
    result = _run(frames, "typed_frame", TYPED)
    assert result.success, result.output
    types = dict(query(dbt_conn, """select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
                                    where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped""",
                       [f'"{frames.schema}".typed_frame']))
    assert types == EXPECTED_TYPES
    columns = ", ".join(f'"{name}"' for name in frame.columns)
    stored = query(dbt_conn, f'select {columns} from "{frames.schema}".typed_frame')
    expected = [tuple(_python_value(v) for v in row) for row in frame.astype(object).itertuples(index=False)]
    expected = [tuple(float(np.float32(v)) if i == 12 else v for i, v in enumerate(row)) for row in expected]
    assert sorted(stored, key=lambda r: r[0]) == sorted(expected, key=lambda r: r[0])
    amount = list(frame.columns).index("amount")  # Decimal('12.50') == 12.5 too: check it came back as numeric
    assert {type(row[amount]) for row in stored if row[amount] is not None} == {decimal.Decimal}


def test_an_empty_frame_is_an_empty_table_with_the_types(frames, dbt_conn):
    code = TYPED.replace('materialized="python_table"', 'materialized="python_table", alias="typed_empty"')
    result = _run(frames, "typed_empty_model", code)
    assert result.success, result.output
    assert query(dbt_conn, f'select count(*) from "{frames.schema}".typed_empty')[0][0] == 0
    types = dict(query(dbt_conn, """select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a
                                    where a.attrelid = %s::regclass and a.attnum > 0 and not a.attisdropped""",
                       [f'"{frames.schema}".typed_empty']))
    # An object column's type follows its values: with none, date and Decimal columns fall back to text.
    assert types == {**EXPECTED_TYPES, "day": "text", "amount": "text"}


def test_python_incremental_appends_with_is_incremental_true_after_the_first_run(frames, dbt_conn):
    table = f'"{frames.schema}".frame_increments'
    first = _run(frames, "frame_increments", INCREMENTAL)
    assert first.success, first.output
    assert query(dbt_conn, f"select id, loaded_by from {table} order by id") == [(i, "full") for i in (1, 2, 3)]
    second = _run(frames, "frame_increments", INCREMENTAL)
    assert second.success, second.output
    base_ids = [row[0] for row in query(dbt_conn, f'select id from "{frames.schema}".frame_base order by id')]
    expected = [(i, "full" if i <= 3 else "incremental") for i in base_ids]
    assert query(dbt_conn, f"select id, loaded_by from {table} order by id") == expected
    refreshed = _run(frames, "frame_increments", INCREMENTAL, "--full-refresh")
    assert refreshed.success, refreshed.output
    assert query(dbt_conn, f"select id, loaded_by from {table} order by id") == [(i, "full") for i in (1, 2, 3)]


def test_an_error_names_the_users_file_and_line_and_keeps_the_previous_table(frames, dbt_conn):
    good = _run(frames, "kept_table", BROKEN.replace("    ratio = len(base) / 0\n", ""))
    assert good.success, good.output
    table = f'"{frames.schema}".kept_table'
    state = f"select '{table}'::regclass::oid, (select array_agg(id order by id) from {table})"
    before = query(dbt_conn, state)
    result = _run(frames, "kept_table", BROKEN)
    assert not result.success
    message = result.message("kept_table")
    assert "models/python_tables/kept_table.py, line 4, in model" in message
    assert "ratio = len(base) / 0" in message and "ZeroDivisionError" in message
    assert query(dbt_conn, state) == before


def test_an_unsupported_dtype_is_an_error_naming_the_column(frames):
    code = BROKEN.replace("    ratio = len(base) / 0\n", '    base["waited"] = __import__("pandas").to_timedelta('
                                                          'base["id"], unit="s")\n')
    result = _run(frames, "timedelta_frame", code)
    assert not result.success
    message = result.message("timedelta_frame")
    assert "model 'timedelta_frame': column 'waited' has dtype timedelta64" in message
    assert "convert it in model()" in message


def test_refused_when_the_install_does_not_allow_python_models(frames, admin_conn, dbt_conn):
    admin_conn.execute("update dbt_learn.installation set python_models_allowed = false")
    try:
        refused = _run(frames, "refused_frame", BROKEN.replace("    ratio = len(base) / 0\n", ""))
        direct = query(dbt_conn, "select dbt_learn.python_frame(%s, 'refused', %s, 'models/x.py', '{}'::jsonb)",
                       [frames.schema, "raise SystemExit('model code ran')"])[0][0]
    finally:
        admin_conn.execute("update dbt_learn.installation set python_models_allowed = true")
    assert not refused.success
    assert "does not allow Python models" in refused.message("refused_frame")
    assert "does not allow Python models" in direct["error"]
    assert query(dbt_conn, "select to_regclass(%s)", [f'"{frames.schema}".refused_frame'])[0][0] is None


def test_the_dates_in_the_typed_frame_are_exact(frames, dbt_conn):
    """Checked apart from the bulk comparison: the binary epoch arithmetic at and around 2000-01-01."""
    code = '''import datetime
import pandas as pd


def model(dbt, session):
    dbt.config(materialized="python_table")
    days = [datetime.date(1999, 12, 31), datetime.date(2000, 1, 1), datetime.date(2000, 1, 2)]
    return pd.DataFrame({"day": days, "stamp": pd.to_datetime([str(d) for d in days])})
'''
    result = _run(frames, "epoch_days", code)
    assert result.success, result.output
    stored = query(dbt_conn, f'select day, stamp from "{frames.schema}".epoch_days order by day')
    assert stored == [(d, datetime.datetime(d.year, d.month, d.day))
                      for d in (datetime.date(1999, 12, 31), datetime.date(2000, 1, 1), datetime.date(2000, 1, 2))]


def test_an_incremental_run_refuses_a_column_the_table_lacks_and_fills_a_missing_one_with_null(frames, dbt_conn):
    table = f'"{frames.schema}".frame_columns'
    first = _run(frames, "frame_columns", INCREMENTAL)
    assert first.success, first.output
    extra = INCREMENTAL.replace('new["loaded_by"] = "incremental"', 'new["surprise"] = 1')
    refused = _run(frames, "frame_columns", extra)
    assert not refused.success
    assert "model 'frame_columns': model() returned column(s) surprise that the existing table" in \
        refused.message("frame_columns")
    fewer = _run(frames, "frame_columns", INCREMENTAL.replace('new["loaded_by"] = "incremental"', "pass"))
    assert fewer.success, fewer.output
    loaded = query(dbt_conn, f"select id, loaded_by from {table} order by id")
    assert loaded[:3] == [(i, "full") for i in (1, 2, 3)] and len(loaded) > 3
    assert {by for _, by in loaded[3:]} == {None}


def test_the_dbt_role_may_call_the_entry_points_but_not_the_temp_table_helper(dbt_conn):
    functions = query(dbt_conn, """
        select p.proname, p.prosecdef, has_function_privilege(current_user, p.oid, 'EXECUTE'),
               has_function_privilege('public', p.oid, 'EXECUTE')
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'dbt_learn' and p.proname like 'python\\_frame%' order by p.proname""")
    assert functions == [("python_frame", False, True, False), ("python_frame_into_temp", True, False, False),
                         ("python_frame_rows", True, True, False)]


def test_rows_for_a_token_this_session_did_not_stage_are_refused(dbt_conn):
    with pytest.raises(psycopg.Error, match="no DataFrame staged under token 987654 in this session"):
        query(dbt_conn, "select * from dbt_learn.python_frame_rows(987654) as f(a bigint)")


def test_python_incremental_refuses_a_unique_key_it_would_not_honour(frames):
    code = INCREMENTAL.replace('materialized="python_incremental"',
                               'materialized="python_incremental", unique_key="id"')
    result = _run(frames, "keyed_increments", code)
    assert not result.success
    assert "python_incremental appends the rows model() returns and does not merge on unique_key" in \
        result.message("keyed_increments")
