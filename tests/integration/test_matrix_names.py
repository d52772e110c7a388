"""Odd names (issue 13, Deliver 7): columns with a double quote, a semicolon, SQL in them, mixed case and spaces train,
score in batch and row by row, and come back exactly as written; nothing they spell is ever executed. A target named
with a semicolon that does not exist is a clear error that changes nothing."""

import pytest

from .conftest import latest_version, query

# Every feature and the id carry a character that breaks SQL built by concatenation.
COLUMNS = ['Mixed Case', 'semi;colon', 'quo"te', "x'); drop table mxn_canary; --"]
TRAINING = ", ".join(f'x{i} as "{name.replace(chr(34), chr(34) * 2)}"' for i, name in zip((1, 2, 1, 2), COLUMNS))
MODEL = """
{{ config(materialized='ml_train', meta={'target': 'Target Y', 'algorithm': 'linear_regression',
                                         'id_columns': ['Row ID']}) }}
select id as "Row ID", """ + TRAINING + """, y as "Target Y" from {{ ref('linear_training') }}
"""
SCORES = """{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('mxn_model'), ref('mxn_input'), id_columns=['Row ID']) }}
"""
INPUT = """{{ config(materialized='table') }}
select id as "Row ID", """ + TRAINING + """ from {{ ref('linear_new') }}
"""
VIEW = """{{ config(materialized='view') }}
select n."Row ID", {{ dbt_learn.ml_predict(ref('mxn_model'), 'n') }} as row_prediction from {{ ref('mxn_input') }} as n
"""
FILES = {"models/matrix_names/mxn_model.sql": MODEL, "models/matrix_names/mxn_scores.sql": SCORES,
         "models/matrix_names/mxn_input.sql": INPUT, "models/matrix_names/mxn_row_scores.sql": VIEW}


@pytest.fixture(scope="module")
def named(project, dbt_conn):
    dbt_conn.execute(f'create table if not exists "{project.schema}".mxn_canary (id int)')
    for path, text in FILES.items():
        project.write(path, text)
    result = project.dbt("run", "-s", "mxn_model", "mxn_input", "mxn_scores", "mxn_row_scores")
    assert result.success, result.output
    yield project
    for path in FILES:
        project.remove(path)


def test_quoted_semicolon_and_mixed_case_columns_train_and_score_exactly(named, dbt_conn):
    schema = named.schema
    [(features, target, ids)] = query(dbt_conn, "select features, target_column, id_columns from "
                                      "dbt_learn.model_versions where model_schema = %s and model_name = 'mxn_model'",
                                      [schema])
    assert [f["name"] for f in features] == COLUMNS and target == "Target Y" and ids == ["Row ID"]
    columns = [c.name for c in dbt_conn.execute(f'select * from "{schema}".mxn_scores limit 0').description]
    assert columns[:2] == ["Row ID", "prediction"]
    batch = query(dbt_conn, f'select "Row ID", prediction from "{schema}".mxn_scores order by 1')
    rows = query(dbt_conn, f'select "Row ID", row_prediction from "{schema}".mxn_row_scores order by 1')
    assert len(batch) == 12 and [r[0] for r in rows] == [b[0] for b in batch]
    assert all(abs(a[1] - b[1]) < 1e-9 for a, b in zip(batch, rows))
    # What the names spell was never run.
    assert query(dbt_conn, "select to_regclass(%s) is not null", [f'"{schema}".mxn_canary'])[0][0]


def test_a_missing_target_named_with_a_semicolon_is_a_clear_error_and_changes_nothing(named, dbt_conn):
    schema = named.schema
    version = latest_version(dbt_conn, schema, "mxn_model")
    scores = query(dbt_conn, f'select * from "{schema}".mxn_scores order by 1')
    named.write("models/matrix_names/mxn_model.sql", MODEL.replace("'Target Y'", "'y; drop table mxn_canary'"))
    try:
        result = named.dbt("run", "-s", "mxn_model")
    finally:
        named.write("models/matrix_names/mxn_model.sql", MODEL)
    assert not result.success
    message = result.message("mxn_model")
    assert "mxn_model" in message and "target column 'y; drop table mxn_canary' not found" in message, message
    assert latest_version(dbt_conn, schema, "mxn_model") == version
    assert query(dbt_conn, f'select * from "{schema}".mxn_scores order by 1') == scores
    assert query(dbt_conn, "select to_regclass(%s) is not null", [f'"{schema}".mxn_canary'])[0][0]
