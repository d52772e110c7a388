"""The input matrix at scoring (issue 13, Deliver 7), and the training gaps no other file covers: NULL, NaN and Infinity
in features (with the default preprocessing and with preprocessing off) and in a target column that the scoring
relation happens to carry, text in a numeric feature, and NaN/Infinity in row-level predict(). Each case either
scores, or fails with a message naming the model and the column and changes nothing: no new registry version, the
scores table stays as it was, and the deployed version still serves."""

import psycopg
import pytest

from .conftest import latest_version, query

TRAINING = "{{ ref('linear_training') }}"
MODEL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select id, x1, x2, y from """ + TRAINING
PLAIN = MODEL.replace("'id_columns'", "'preprocessing': 'off', 'id_columns'")
SCORES = """{{ config(materialized='table') }}
select id, prediction, model_version from {{ dbt_learn.ml_score(ref('MODEL'), INPUT) }}
"""
GOOD_INPUT = "ref('linear_new')"
MODELS = {"mxs_model": MODEL, "mxs_plain": PLAIN}


def _path(name):
    return f"models/matrix_scoring/{name}.sql"


def _scores_sql(model, table=None):
    relation = f"adapter.get_relation(this.database, this.schema, '{table}')" if table else GOOD_INPUT
    return SCORES.replace("MODEL", model).replace("INPUT", relation)


@pytest.fixture(scope="module")
def scored(project):
    """mxs_model (default preprocessing) and mxs_plain (preprocessing off) trained once, each with a scores table."""
    for name, text in MODELS.items():
        project.write(_path(name), text)
        project.write(_path(name + "_scores"), _scores_sql(name))
    result = project.dbt("run", "-s", *MODELS, *(name + "_scores" for name in MODELS))
    assert result.success, result.output
    return project


def _registry_count(conn, schema):
    return query(conn, "select count(*) from dbt_learn.model_versions where model_schema = %s", [schema])[0][0]


def _score(project, conn, model, table, select):
    """Scores ``select`` (over linear_new) with ``model``'s scores model; the scores model is restored afterwards.
    Returns (result, scores before, scores after)."""
    schema = project.schema
    conn.execute(f'drop table if exists "{schema}"."{table}"')
    conn.execute(f'create table "{schema}"."{table}" as {select.format(source=f"{schema}.linear_new")}')
    before = query(conn, f'select * from "{schema}".{model}_scores order by id')
    project.write(_path(model + "_scores"), _scores_sql(model, table))
    try:
        result = project.dbt("run", "-s", model + "_scores")
        after = query(conn, f'select * from "{schema}".{model}_scores order by id')
    finally:
        project.write(_path(model + "_scores"), _scores_sql(model))
    return result, before, after


def _head(message):
    """The error as the user reads it: before PL/Python's CONTEXT (the call stack Postgres appends to every error)."""
    return message.split("CONTEXT:")[0]


def _assert_clear(message, fragments):
    head = _head(message)
    for fragment in fragments:
        assert fragment in head, message
    assert "spiexceptions" not in head and "Traceback" not in head, message


def _assert_refused_and_unchanged(project, conn, model, result, before, after, fragments):
    assert not result.success
    _assert_clear(result.message(model + "_scores"), fragments)
    assert after == before
    rescored = project.dbt("run", "-s", model + "_scores")  # the deployed version still serves
    assert rescored.success, rescored.output
    assert query(conn, f'select * from "{project.schema}".{model}_scores order by id') == before


NAN_X2 = "case when id % 2 = 0 then 'nan'::float8 else x2 end as x2"
INF_X2 = "case when id % 2 = 0 then 'infinity'::float8 else x2 end as x2"


def test_nan_features_at_scoring_are_imputed_like_nulls_by_the_default_preprocessing(scored, dbt_conn):
    versions = _registry_count(dbt_conn, scored.schema)
    result, _, after = _score(scored, dbt_conn, "mxs_model", "mxs_input_nan",
                              f"select id, x1, {NAN_X2} from {{source}}")
    assert result.success, result.output
    nulls, _, _ = _score(scored, dbt_conn, "mxs_model", "mxs_input_null",
                         "select id, x1, case when id % 2 = 0 then null else x2 end as x2 from {source}")
    assert nulls.success, nulls.output
    imputed = query(dbt_conn, f'select * from "{scored.schema}".mxs_model_scores order by id')
    assert [row[:2] for row in after] == [row[:2] for row in imputed]  # NaN scores exactly as NULL does
    assert all(row[1] is not None and row[1] == row[1] for row in after)
    assert _registry_count(dbt_conn, scored.schema) == versions
    assert scored.dbt("run", "-s", "mxs_model_scores").success


def test_infinite_features_at_scoring_are_refused_naming_the_column(scored, dbt_conn):
    result, before, after = _score(scored, dbt_conn, "mxs_model", "mxs_input_inf",
                                   f"select id, x1, {INF_X2} from {{source}}")
    _assert_refused_and_unchanged(scored, dbt_conn, "mxs_model", result, before, after,
                                  ["model 'mxs_model'", "x2", "Infinity"])


@pytest.mark.parametrize("value", ["nan", "infinity"])
def test_non_finite_features_at_scoring_without_preprocessing_name_the_column(scored, dbt_conn, value):
    versions = _registry_count(dbt_conn, scored.schema)
    column = NAN_X2 if value == "nan" else INF_X2
    result, before, after = _score(scored, dbt_conn, "mxs_plain", f"mxs_input_plain_{value}",
                                   f"select id, x1, {column} from {{source}}")
    _assert_refused_and_unchanged(scored, dbt_conn, "mxs_plain", result, before, after,
                                  ["model 'mxs_plain'", "x2", "NaN" if value == "nan" else "Infinity"])
    assert _registry_count(dbt_conn, scored.schema) == versions


@pytest.mark.parametrize("value", ["null", "'nan'::float8", "'infinity'::float8"], ids=["null", "nan", "infinity"])
def test_a_target_column_in_the_scoring_relation_is_ignored_whatever_it_holds(scored, dbt_conn, value):
    good = query(dbt_conn, f'select id, prediction from "{scored.schema}".mxs_plain_scores order by id')
    result, _, after = _score(scored, dbt_conn, "mxs_plain", "mxs_input_target",
                              f"select id, x1, x2, {value} as y from {{source}}")
    assert result.success, result.output
    assert [row[:2] for row in after] == good


def test_text_in_a_numeric_feature_at_scoring_names_the_model_and_the_column(scored, dbt_conn):
    versions = _registry_count(dbt_conn, scored.schema)
    result, before, after = _score(scored, dbt_conn, "mxs_plain", "mxs_input_text",
                                   "select id, x1, case when id % 2 = 0 then 'n/a' else x2::text end as x2 "
                                   "from {source}")
    _assert_refused_and_unchanged(scored, dbt_conn, "mxs_plain", result, before, after,
                                  ["mxs_plain", "x2", "text"])
    assert _registry_count(dbt_conn, scored.schema) == versions


@pytest.mark.parametrize("value", ["nan", "infinity"])
def test_row_level_predict_refuses_a_non_finite_feature_naming_it(scored, dbt_conn, value):
    with pytest.raises(psycopg.errors.InternalError_) as raised:
        dbt_conn.execute(f"select dbt_learn.predict(%s, 'mxs_plain', 1.0, '{value}'::float8)", [scored.schema])
    _assert_clear(str(raised.value), ["model 'mxs_plain'", "x2", "NaN" if value == "nan" else "Infinity"])


@pytest.mark.parametrize("value", ["nan", "null"])
def test_nan_or_null_features_at_training_are_imputed_by_the_default_preprocessing(scored, dbt_conn, value):
    schema = scored.schema
    gap = "'nan'::float8" if value == "nan" else "null"
    model = MODEL.replace("x1, x2", f"x1, case when id = 4 then {gap} else x2 end as x2")
    result = scored.dbt_with({_path("mxs_gap"): model}, "run", "-s", "mxs_gap")
    assert result.success, result.output
    [(rows, features)] = query(dbt_conn, "select training_rows + holdout_rows, features from dbt_learn.model_versions "
                               "where model_schema = %s and model_name = 'mxs_gap' order by version desc limit 1",
                               [schema])
    assert rows == 36 and "x2" in str(features)
    assert latest_version(dbt_conn, schema, "mxs_gap") >= 1


@pytest.mark.parametrize("value", ["nan", "null"])
def test_nan_or_null_features_at_training_without_preprocessing_name_the_column(scored, dbt_conn, value):
    schema = scored.schema
    versions = _registry_count(dbt_conn, schema)
    gap = "'nan'::float8" if value == "nan" else "null"
    model = PLAIN.replace("x1, x2", f"x1, case when id = 4 then {gap} else x2 end as x2")
    scored.write(_path("mxs_plain"), model)
    try:
        result = scored.dbt("run", "-s", "mxs_plain")
    finally:
        scored.write(_path("mxs_plain"), PLAIN)
    assert not result.success
    _assert_clear(result.message("mxs_plain"), ["model 'mxs_plain'", "x2", "NaN" if value == "nan" else "NULL"])
    assert _registry_count(dbt_conn, schema) == versions
