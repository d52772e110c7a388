"""Training tables larger than one batch: the batch limit (var dbt_learn_training_batch_mb) refuses a training view
with a message that says how many rows it has, what the limit holds and what to set; meta.sample trains on a
deterministic sample of it - the same rows whatever order Postgres reads them in - and the registry records how
many rows were seen and used. The limit is set tiny here, so a few thousand rows stand for tens of millions."""

import numpy as np
import pytest

from .conftest import query

N_ROWS = 3000
TINY_LIMIT = {"dbt_learn_training_batch_mb": 0.02}  # 20,971 bytes: 873 rows of 3 float8 (x1, x2 and y)


def _model(source, algorithm, target, sample=None, columns="x1, x2, c"):
    meta = {"target": target, "algorithm": algorithm, "id_columns": ["id"], "retrain_policy": "always",
            "holdout_size": 0.2, "random_state": 0}
    if sample is not None:
        meta["sample"] = sample
    return (f"{{{{ config(materialized='ml_train', meta={meta!r}) }}}}\n"
            f"select id, {columns}, {target} from {{{{ source('scale', '{source}') }}}}\n")


SOURCES = """version: 2
sources:
  - name: scale
    schema: "{{ target.schema }}"
    tables: [{name: scale_rows}, {name: scale_rows_shuffled}]
"""


@pytest.fixture(scope="module")
def tables(project, dbt_conn):
    """scale_rows, and scale_rows_shuffled: the same rows stored in another physical order (read back in it)."""
    schema = project.schema
    rng = np.random.default_rng(11)
    x = rng.normal(size=(N_ROWS, 2))
    c = rng.choice(["north", "south", "east"], N_ROWS)
    y = x @ [2.0, -1.0] + rng.normal(scale=0.1, size=N_ROWS)
    label = np.where(y > 0, 10, 2)  # integers: 2 sorts before 10 as numbers, after it as text
    for name, order in (("scale_rows", np.arange(N_ROWS)), ("scale_rows_shuffled", rng.permutation(N_ROWS))):
        dbt_conn.execute(f'drop table if exists "{schema}".{name}')
        dbt_conn.execute(f'create table "{schema}".{name} (id int, x1 float8, x2 float8, c text, y float8, '
                         f'label int)')
        with dbt_conn.cursor().copy(f'copy "{schema}".{name} from stdin') as copy:
            for i in order:
                copy.write_row((int(i) + 1, float(x[i, 0]), float(x[i, 1]), str(c[i]), float(y[i]), int(label[i])))
    first = [r[0] for r in query(dbt_conn, f'select id from "{schema}".scale_rows limit 5')]
    shuffled = [r[0] for r in query(dbt_conn, f'select id from "{schema}".scale_rows_shuffled limit 5')]
    assert first != shuffled  # the two tables really are read in different orders
    return schema


def _versions(conn, schema, model):
    return query(conn, """select training_rows, data_fingerprint, evaluation -> 'sample', classes
                          from dbt_learn.model_versions where model_schema = %s and model_name = %s
                          order by version""", [schema, model])


def _run(project, models, *args):
    files = {f"models/scale/{name}.sql": text for name, text in models.items()}
    files["models/scale/sources.yml"] = SOURCES
    return project.dbt_with(files, "run", "-s", *models, *args)


def test_a_fraction_sample_is_the_same_rows_whatever_the_scan_order_and_twice_in_a_row(project, dbt_conn, tables):
    sample = {"fraction": 0.3, "seed": 1}
    models = {"scale_fraction": _model("scale_rows", "linear_regression", "y", sample),
              "scale_fraction_shuffled": _model("scale_rows_shuffled", "linear_regression", "y", sample),
              "scale_fraction_seed": _model("scale_rows", "linear_regression", "y", {**sample, "seed": 2})}
    for _ in range(2):
        result = _run(project, models)
        assert result.success, result.output
    (rows1, print1, recorded1, _), (rows2, print2, _, _) = _versions(dbt_conn, tables, "scale_fraction")
    shuffled = _versions(dbt_conn, tables, "scale_fraction_shuffled")
    other = _versions(dbt_conn, tables, "scale_fraction_seed")
    assert print1 == print2 == shuffled[0][1] == shuffled[1][1] and rows1 == rows2 == shuffled[0][0]
    assert other[0][1] != print1  # another seed, another sample
    # A Bernoulli sample of 3000 rows at 0.3: 900 expected, sd 25.
    assert 800 < rows1 < 1000 and 800 < other[0][0] < 1000
    assert recorded1 == {"rows_seen": N_ROWS, "rows_read": rows1, "rows_used": rows1, "rows": None, "fraction": 0.3,
                         "seed": 1}


def test_a_rows_sample_keeps_exactly_that_many_rows_and_records_seen_and_used(project, dbt_conn, tables):
    sample = {"rows": 500, "seed": 3}
    models = {"scale_rows_sample": _model("scale_rows", "logistic_regression", "label", sample),
              "scale_rows_sample_shuffled": _model("scale_rows_shuffled", "logistic_regression", "label", sample)}
    result = _run(project, models, "--vars", str(TINY_LIMIT))  # 500 rows fit the tiny batch; 3000 would not
    assert result.success, result.output
    [(rows, fingerprint, recorded, classes)] = _versions(dbt_conn, tables, "scale_rows_sample")
    [(rows2, fingerprint2, _, _)] = _versions(dbt_conn, tables, "scale_rows_sample_shuffled")
    assert rows == rows2 == 500 and fingerprint == fingerprint2
    assert recorded["rows_seen"] == N_ROWS and recorded["rows_used"] == 500 and recorded["rows"] == 500
    assert 500 <= recorded["rows_read"] < 700  # over-sampled in SQL, then trimmed to exactly 500
    assert classes == ["2", "10"]  # the labels sort as the integer column sorts


def test_a_table_over_the_batch_limit_without_a_sample_is_refused_with_the_numbers_and_the_option(project, dbt_conn,
                                                                                                   tables):
    result = _run(project, {"scale_too_big": _model("scale_rows", "linear_regression", "y", columns="x1, x2")},
                  "--vars", str(TINY_LIMIT))
    assert not result.success
    message = result.message("scale_too_big")
    assert "model 'scale_too_big'" in message and f"{N_ROWS:,} rows" in message, message
    assert "dbt_learn_training_batch_mb = 0.02 MB" in message and "873 rows" in message, message
    assert "meta.sample" in message and "{rows: 873}" in message, message
    assert "meta.partial_fit: true" in message, message
    assert _versions(dbt_conn, tables, "scale_too_big") == []  # nothing registered


def test_a_sample_larger_than_the_batch_is_refused_before_reading(project, dbt_conn, tables):
    result = _run(project, {"scale_sample_too_big": _model("scale_rows", "linear_regression", "y", {"rows": 2000},
                                                           columns="x1, x2")}, "--vars", str(TINY_LIMIT))
    assert not result.success
    message = result.message("scale_sample_too_big")
    assert "meta.sample" in message and "lower meta.sample" in message and "873" in message, message
    assert _versions(dbt_conn, tables, "scale_sample_too_big") == []


@pytest.mark.parametrize("sample", [{"rows": 0}, {"fraction": 1.5}, {"rows": 10, "fraction": 0.5}, {"size": 3},
                                    {"rows": 10, "seed": "x"}])
def test_a_malformed_sample_is_a_compile_error(project, tables, sample):
    result = _run(project, {"scale_bad_sample": _model("scale_rows", "linear_regression", "y", sample)})
    assert not result.success
    assert "meta.sample takes {rows: <positive integer>} or {fraction: <number in (0, 1]>}" in result.output


SPEC = ('{"task": "regression", "algorithm": "linear_regression", "holdout_size": 0, '
        '"features": [{"name": "x", "type": "double precision", "kind": "numeric"}], '
        '"target": {"name": "y", "type": "double precision"}}')
ROWS = ("select float8send(x) || float8send(y) as __dbt_learn_row "
        "from (values (1.0::float8, 2.0::float8), (2, 4)) t(x, y)")


def test_train_query_cannot_add_versions_to_a_schema_the_role_cannot_create_in(dbt_conn, admin_conn, tables):
    foreign = f"{tables}_foreign"
    admin_conn.execute(f'create schema "{foreign}"')
    try:
        answer = query(dbt_conn, "select dbt_learn.train_query(%s, 'intruder', %s::jsonb, %s)", [foreign, SPEC, ROWS])
        count = query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s", [foreign])
    finally:
        admin_conn.execute(f'drop schema "{foreign}"')
    assert "cannot register model versions in schema" in answer[0][0]["error"]
    assert count == [(0,)]


def test_train_query_reads_with_the_callers_privileges(dbt_conn, admin_conn, tables):
    secret = f"{tables}_secret"
    admin_conn.execute(f'create schema "{secret}"')
    admin_conn.execute(f'create table "{secret}".rows as select 1.0::float8 as x, 2.0::float8 as y')
    try:
        with pytest.raises(Exception, match="permission denied"):
            query(dbt_conn, "select dbt_learn.train_query(%s, 'reader', %s::jsonb, %s)",
                  [tables, SPEC, ROWS.replace("(values (1.0::float8, 2.0::float8), (2, 4)) t(x, y)",
                                              f'"{secret}".rows t')])
    finally:
        admin_conn.execute(f'drop schema "{secret}" cascade')


def test_train_staged_alone_has_nothing_to_train_on(dbt_conn, tables):
    answer = query(dbt_conn, "select dbt_learn.train_staged(%s, 'nothing', %s::jsonb)", [tables, SPEC])
    assert "no training rows were read for it in this session" in answer[0][0]["error"]


def test_training_sql_with_a_percent_sign_and_a_trailing_comment_is_read_as_written(project, dbt_conn, tables):
    text = _model("scale_rows", "linear_regression", "y", columns="x1, x2").rstrip("\n")
    text += " where id % 3 = 0 -- every third row: 100% of them, no more\n"
    result = _run(project, {"scale_percent": text})
    assert result.success, result.output
    assert _versions(dbt_conn, tables, "scale_percent")[0][0] == N_ROWS // 3


PYTHON_MODEL = '''from sklearn.linear_model import LinearRegression


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"], "sample": {"rows": 10}})
    dbt.source("scale", "scale_rows")
    return LinearRegression()
'''


def test_a_python_model_with_a_sample_is_told_to_sample_in_its_code(project, dbt_conn, tables):
    result = project.dbt_with({"models/scale/scale_python_sample.py": PYTHON_MODEL,
                               "models/scale/sources.yml": SOURCES},
                              "run", "-s", "scale_python_sample")
    assert not result.success
    assert "meta.sample applies to SQL ml_train models" in result.message("scale_python_sample")
    assert _versions(dbt_conn, tables, "scale_python_sample") == []
