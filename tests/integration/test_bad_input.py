"""Bad input fails with a message naming the model and the column or option, and loses nothing: the previous version
keeps serving and the previous scores table stays as it was."""

import pytest

from .conftest import latest_version, query

GOOD_MODEL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select * from {{ ref('linear_training') }}
"""
GOOD_SCORES = """{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('guarded_model'), ref('linear_new')) }}
"""


@pytest.fixture(scope="module")
def guarded(project, dbt_conn):
    """guarded_model trained once (v1) and guarded_scores built from it."""
    project.write("models/guarded/guarded_model.sql", GOOD_MODEL)
    project.write("models/guarded/guarded_scores.sql", GOOD_SCORES)
    result = project.dbt("run", "-s", "guarded_model", "guarded_scores")
    assert result.success, result.output
    return project


def _scores(conn, schema):
    return query(conn, f'select id, prediction, model_version, scored_at from "{schema}".guarded_scores order by id')


BAD_TRAINING = {
    "target_missing": (
        GOOD_MODEL.replace("'target': 'y'", "'target': 'outcome'"),
        ["guarded_model", "target column 'outcome' not found", "x1, x2, y"]),
    "non_numeric_target_for_regressor": (
        GOOD_MODEL.replace("'target': 'y'", "'target': 'y_text'").replace("select *", "select *, y::text as y_text"),
        ["guarded_model", "regressor", "'y_text'", "type text"]),
    "empty_training_view": (
        GOOD_MODEL.replace("{{ ref('linear_training') }}", "{{ ref('linear_training') }} where false"),
        ["guarded_model", "returned no rows"]),
    "unknown_algorithm": (
        GOOD_MODEL.replace("'linear_regression'", "'linear_regresion'"),
        ["guarded_model", "unknown algorithm 'linear_regresion'", "Did you mean 'linear_regression'"]),
    "unknown_hyperparameter": (
        GOOD_MODEL.replace("'id_columns'", "'params': {'fit_intercep': False}, 'id_columns'"),
        ["guarded_model", "unknown hyperparameter 'fit_intercep'", "Did you mean 'fit_intercept'"]),
    "hyperparameter_out_of_range": (
        GOOD_MODEL.replace("'linear_regression',", "'ridge', 'params': {'alpha': -1},"),
        ["guarded_model", "'alpha' parameter of Ridge"]),
    "text_feature_with_preprocessing_off": (
        GOOD_MODEL.replace("'id_columns'", "'preprocessing': 'off', 'id_columns'")
        .replace("select *", "select *, 'a'::text as colour"),
        ["guarded_model", "feature column 'colour' has type text", "preprocessing is 'off'", "exclude_columns"]),
    "unusable_feature_type": (
        GOOD_MODEL.replace("select *", "select *, gen_random_uuid() as token"),
        ["guarded_model", "feature column 'token' has type uuid", "exclude_columns"]),
    "category_explosion_past_the_limit": (
        GOOD_MODEL.replace("'id_columns'", "'preprocessing': {'max_distinct': 10}, 'id_columns'")
        .replace("select *", "select *, 'customer ' || id as code"),
        ["guarded_model", "categorical column 'code' has 30 distinct values", "max_distinct (10)",
         "exclude_columns"]),
    "unknown_preprocessing_option": (
        GOOD_MODEL.replace("'id_columns'", "'preprocessing': {'scaling': False}, 'id_columns'"),
        ["guarded_model", "unknown meta.preprocessing option 'scaling'", "max_categories"]),
    "clusterer_given_a_target": (
        GOOD_MODEL.replace("'linear_regression'", "'k_means'"),
        ["guarded_model", "KMeans is a clustering estimator", "meta.target is set to 'y'"]),
    "more_clusters_than_rows": (
        GOOD_MODEL.replace("'target': 'y', 'algorithm': 'linear_regression'",
                           "'algorithm': 'k_means', 'params': {'n_clusters': 500}, 'exclude_columns': ['y']"),
        ["guarded_model", "KMeans.fit failed", "n_clusters=500"]),
    "threshold_on_a_regressor": (
        GOOD_MODEL.replace("'id_columns'", "'threshold': 0.3, 'id_columns'"),
        ["guarded_model", "meta.threshold applies to classifiers", "LinearRegression"]),
    "option_outside_meta": (
        GOOD_MODEL.replace("meta={'target': 'y',", "target='y', meta={"),
        ["guarded_model", "sets 'target' at the top level", "meta"]),
}


@pytest.mark.parametrize("case", BAD_TRAINING, ids=list(BAD_TRAINING))
def test_failed_training_names_the_problem_and_keeps_the_previous_version(guarded, dbt_conn, case):
    model_sql, expected = BAD_TRAINING[case]
    schema = guarded.schema
    version_before = latest_version(dbt_conn, schema, "guarded_model")
    relation_before = query(dbt_conn, f'select version from "{schema}".guarded_model order by version')
    scores_before = _scores(dbt_conn, schema)
    guarded.write("models/guarded/guarded_model.sql", model_sql)
    try:
        result = guarded.dbt("run", "-s", "guarded_model")
    finally:
        guarded.write("models/guarded/guarded_model.sql", GOOD_MODEL)

    assert not result.success
    message = result.message("guarded_model")
    for fragment in expected:
        assert fragment in message, message
    assert latest_version(dbt_conn, schema, "guarded_model") == version_before
    assert query(dbt_conn, f'select version from "{schema}".guarded_model order by version') == relation_before
    assert _scores(dbt_conn, schema) == scores_before
    rescored = guarded.dbt("run", "-s", "guarded_scores")
    assert rescored.success, rescored.output
    assert {row[2] for row in _scores(dbt_conn, schema)} == {version_before}


def test_scoring_without_a_feature_column_keeps_the_previous_scores(guarded, dbt_conn):
    schema = guarded.schema
    before = _scores(dbt_conn, schema)
    guarded.write("models/guarded/guarded_scores.sql", GOOD_SCORES.replace(
        "ref('linear_new')", "adapter.get_relation(this.database, this.schema, 'guarded_input_without_x2')"))
    dbt_conn.execute(f'create table "{schema}".guarded_input_without_x2 as select id, x1 from "{schema}".linear_new')
    try:
        result = guarded.dbt("run", "-s", "guarded_scores")
    finally:
        guarded.write("models/guarded/guarded_scores.sql", GOOD_SCORES)
    assert not result.success
    message = result.message("guarded_scores")
    assert "guarded_model" in message and "x2" in message and "missing from the scoring relation" in message
    assert _scores(dbt_conn, schema) == before


def test_scoring_a_version_that_does_not_exist_is_a_clear_error(guarded):
    result = guarded.dbt_with({"models/guarded/guarded_pinned_scores.sql":
                               "select * from {{ dbt_learn.ml_score(ref('guarded_model'), ref('linear_new'), "
                               "version=99) }}"}, "run", "-s", "guarded_pinned_scores")
    assert not result.success
    assert "'guarded_model'" in result.message("guarded_pinned_scores")
    assert "no version 99" in result.message("guarded_pinned_scores")


def test_a_mismatched_runtime_version_is_refused_with_what_to_do(guarded, admin_conn):
    installed = query(admin_conn, "select runtime_version from dbt_learn.installation")[0][0]
    admin_conn.execute("update dbt_learn.installation set runtime_version = '0.0.0-old'")
    try:
        result = guarded.dbt("run", "-s", "guarded_model")
    finally:
        admin_conn.execute("update dbt_learn.installation set runtime_version = %s", [installed])
    assert not result.success
    message = result.message("guarded_model")
    assert "runtime 0.0.0-old" in message and f"needs {installed}" in message and "dbt_learn.install" in message


def test_retraining_appends_a_version_and_full_refresh_keeps_history(guarded, dbt_conn):
    schema = guarded.schema
    before = latest_version(dbt_conn, schema, "guarded_model")
    result = guarded.dbt("run", "-s", "guarded_model", "--full-refresh")
    assert result.success, result.output
    assert latest_version(dbt_conn, schema, "guarded_model") == before + 1
    rows = query(dbt_conn, f'select version, is_latest from "{schema}".guarded_model order by version')
    assert rows == [(v, v == before + 1) for v in range(1, before + 2)]


def test_null_features_at_scoring_are_imputed_by_the_default_preprocessing(guarded, dbt_conn):
    schema = guarded.schema
    dbt_conn.execute(f'create table if not exists "{schema}".guarded_input_with_nulls as '
                     f'select id, x1, case when id % 2 = 0 then null else x2 end as x2 from "{schema}".linear_new')
    guarded.write("models/guarded/guarded_scores.sql", GOOD_SCORES.replace(
        "ref('linear_new')", "adapter.get_relation(this.database, this.schema, 'guarded_input_with_nulls')"))
    try:
        result = guarded.dbt("run", "-s", "guarded_scores")
        scores = _scores(dbt_conn, schema)
    finally:
        guarded.write("models/guarded/guarded_scores.sql", GOOD_SCORES)
        assert guarded.dbt("run", "-s", "guarded_scores").success
    assert result.success, result.output
    assert scores and all(prediction is not None for _, prediction, _, _ in scores)


def test_scoring_null_features_without_preprocessing_names_the_columns_and_keeps_the_previous_scores(guarded,
                                                                                                     dbt_conn):
    schema = guarded.schema
    dbt_conn.execute(f'create table if not exists "{schema}".guarded_input_with_nulls as '
                     f'select id, x1, case when id % 2 = 0 then null else x2 end as x2 from "{schema}".linear_new')
    plain = GOOD_MODEL.replace("'id_columns'", "'preprocessing': 'off', 'id_columns'")
    scores = GOOD_SCORES.replace("guarded_model", "guarded_plain")
    first = guarded.dbt_with({"models/guarded/guarded_plain.sql": plain,
                              "models/guarded/guarded_plain_scores.sql": scores},
                             "run", "-s", "guarded_plain", "guarded_plain_scores")
    assert first.success, first.output
    before = query(dbt_conn, f'select id, prediction from "{schema}".guarded_plain_scores order by id')
    result = guarded.dbt_with({"models/guarded/guarded_plain.sql": plain,
                               "models/guarded/guarded_plain_scores.sql": scores.replace(
                                   "ref('linear_new')",
                                   "adapter.get_relation(this.database, this.schema, 'guarded_input_with_nulls')")},
                              "run", "-s", "guarded_plain_scores")
    assert not result.success
    message = result.message("guarded_plain_scores")
    assert "model 'guarded_plain'" in message and "NULL or NaN values are in: x2" in message
    assert "preprocessing" in message
    assert query(dbt_conn, f'select id, prediction from "{schema}".guarded_plain_scores order by id') == before
