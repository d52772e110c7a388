"""The input matrix at training: single-class targets, non-finite features and targets, enum targets. Each bad input
fails with a message naming the model and the column, and changes nothing: no new registry version, the deployed
version keeps serving."""

import pytest

from .conftest import latest_version, query

TRAINING = "{{ ref('linear_training') }}"
REGRESSOR = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select id, x1, x2, y from """ + TRAINING
CLASSIFIER = """
{{ config(materialized='ml_train',
          meta={'target': 'label', 'algorithm': 'decision_tree_classifier', 'id_columns': ['id']}) }}
select id, x1, x2, case when id % 2 = 0 then 'a' else 'b' end as label from """ + TRAINING
SCORES = """{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('MODEL'), ref('linear_new')) }}
"""
MODELS = {"im_regressor": REGRESSOR, "im_classifier": CLASSIFIER}


def _path(name):
    return f"models/input_matrix/{name}.sql"


@pytest.fixture(scope="module")
def trained(project):
    """im_regressor and im_classifier trained once (v1), each with a scores table."""
    for name, sql in MODELS.items():
        project.write(_path(name), sql)
        project.write(_path(name + "_scores"), SCORES.replace("MODEL", name))
    result = project.dbt("run", "-s", *MODELS, *(name + "_scores" for name in MODELS))
    assert result.success, result.output
    return project


BAD_TRAINING = {
    "single_class_target_with_a_tree": (
        "im_classifier", CLASSIFIER.replace("case when id % 2 = 0 then 'a' else 'b' end", "'a'::text"),
        ["model 'im_classifier'", "target 'label' has one class ('a') in its 30 training rows",
         "a classifier needs at least two"]),
    "infinite_feature_with_gradient_boosting": (
        "im_regressor", REGRESSOR.replace("'linear_regression'", "'gradient_boosting_regressor'")
        .replace("x2, y", "case when id = 3 then 'infinity'::float8 else x2 end as x2, y"),
        ["model 'im_regressor'", "feature column 'x2'", "Infinity", "1 of 30 training rows"]),
    "negative_infinite_and_null_feature_with_a_linear_model": (
        "im_regressor", REGRESSOR.replace(
            "x1, x2", "case when id < 3 then '-infinity'::float8 when id = 4 then null else x1 end as x1, x2"),
        ["model 'im_regressor'", "feature column 'x1'", "Infinity", "2 of 30 training rows"]),
    "nan_target": (
        "im_regressor", REGRESSOR.replace("x2, y", "x2, case when id = 5 then 'nan'::float8 else y end as y"),
        ["model 'im_regressor'", "target column 'y'", "NaN", "1 of 30 training rows"]),
    "infinite_target": (
        "im_regressor", REGRESSOR.replace("x2, y", "x2, case when id = 5 then 'infinity'::float8 else y end as y"),
        ["model 'im_regressor'", "target column 'y'", "Infinity", "1 of 30 training rows"]),
    "null_target": (
        "im_regressor", REGRESSOR.replace("x2, y", "x2, case when id = 5 then null else y end as y"),
        ["model 'im_regressor'", "'y'", "NULL"]),
}


@pytest.mark.parametrize("case", BAD_TRAINING, ids=list(BAD_TRAINING))
def test_bad_training_input_names_the_column_and_keeps_the_deployed_version(trained, dbt_conn, case):
    name, model_sql, expected = BAD_TRAINING[case]
    schema = trained.schema
    version_before = latest_version(dbt_conn, schema, name)
    versions_before = query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s",
                            [schema])
    scores_before = query(dbt_conn, f'select * from "{schema}".{name}_scores order by 1')
    trained.write(_path(name), model_sql)
    try:
        result = trained.dbt("run", "-s", name)
    finally:
        trained.write(_path(name), MODELS[name])
    assert not result.success
    message = result.message(name)
    for fragment in expected:
        assert fragment in message, message
    assert "Traceback" not in message and "invalid input syntax for type json" not in message, message
    assert latest_version(dbt_conn, schema, name) == version_before
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s",
                 [schema]) == versions_before
    assert query(dbt_conn, f'select * from "{schema}".{name}_scores order by 1') == scores_before
    rescored = trained.dbt("run", "-s", name + "_scores")
    assert rescored.success, rescored.output
    assert {row[0] for row in query(dbt_conn, f'select distinct model_version from "{schema}".{name}_scores')} == {
        version_before}


def test_an_enum_target_trains_and_scores_as_text(trained, dbt_conn):
    schema = trained.schema
    dbt_conn.execute(f'create type "{schema}".im_label as enum (\'low\', \'high\')')
    model = CLASSIFIER.replace("case when id % 2 = 0 then 'a' else 'b' end",
                               f"(case when y > 10 then 'high' else 'low' end)::\"{schema}\".im_label")
    result = trained.dbt_with({_path("im_enum"): model, _path("im_enum_scores"): SCORES.replace("MODEL", "im_enum")},
                              "run", "-s", "im_enum", "im_enum_scores")
    assert result.success, result.output
    [(target_type, classes)] = query(dbt_conn, "select target_type, classes from dbt_learn.model_versions "
                                     "where model_schema = %s and model_name = 'im_enum'", [schema])
    assert target_type == "text" and sorted(classes) == ["high", "low"]
    scores = query(dbt_conn, f'select prediction, pg_typeof(prediction)::text from "{schema}".im_enum_scores')
    assert len(scores) == 12 and {row[1] for row in scores} == {"text"}
    assert {row[0] for row in scores} <= {"high", "low"}
