"""Model-quality tests (dbt_learn.ml_metric_threshold, ml_no_regression, ml_predictions_in_range,
ml_predictions_in_classes) pass and fail like any dbt test - severity, warn_if and error_if included - a misconfigured
one is an error naming the model, and the package's registry views describe the session's models."""

import pytest

from .conftest import latest_version, query

# Attached in integration_tests/models/quality/quality_models.yml; they run, and must pass, in the session's build.
POSITIVE_TESTS = [
    "quality_classifier_accuracy_at_least_0_8",
    "quality_classifier_log_loss_at_most_0_7",
    "quality_classifier_roc_auc_between_0_9_and_1",
    "quality_classifier_accuracy_no_regression",
    "quality_classifier_scores_prediction_in_classes",
    "quality_classifier_scores_prediction_in_label_model_v1_classes",
    "quality_classifier_scores_probability_high_in_0_1",
    "quality_classifier_scores_probability_low_in_0_1",
]
# integration_tests/models/quality/negative.yml: tagged expect_failure, so the build leaves them out.
OUT_OF_RANGE = "expect_fail_prediction_between_minus_8_and_8"
OUT_OF_RANGE_WARN_IF = "expect_warn_prediction_between_minus_8_and_8_warn_if_error_if"
OUT_OF_RANGE_TOLERATED = "expect_pass_prediction_between_minus_8_and_8_tolerating_100_rows"

REGRESSING_MODEL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select * from {{ ref('linear_training') }}
"""
REGRESSING_MODEL_PATH = "models/quality_tmp/regressing_model.sql"
TEMP_YML = "models/quality_tmp/quality_tmp.yml"


def _failures(result, name):
    return next(r.failures for r in result.results if r.node.name == name)


def _tests_on(model, *tests):
    """A yml attaching generic tests, each {'name': ..., 'test': ..., 'arguments': {...}}, to a model."""
    lines = ["version: 2", "models:", f"  - name: {model}", "    data_tests:"]
    for test in tests:
        arguments = ", ".join(f"{key}: {value!r}" for key, value in test["arguments"].items())
        lines.append(f"      - dbt_learn.{test['test']}: {{name: {test['name']}, arguments: {{{arguments}}}}}")
    return "\n".join(lines) + "\n"


def _run_temp_tests(project, yml, *names, extra=()):
    project.write(TEMP_YML, yml)
    try:
        return project.dbt("test", "-s", *names, *extra)
    finally:
        project.remove(TEMP_YML)


@pytest.fixture(scope="module")
def negative_run(project):
    return project.dbt("test", "-s", "tag:expect_failure")


@pytest.fixture(scope="module")
def regressing(project, dbt_conn):
    """regressing_model: linear regression on every feature of linear_training (r2 1, rmse 0 on its holdout)."""
    project.write(REGRESSING_MODEL_PATH, REGRESSING_MODEL)
    result = project.dbt("run", "-s", "regressing_model")
    assert result.success, result.output
    yield project
    project.remove(REGRESSING_MODEL_PATH)
    dbt_conn.execute(f'drop schema if exists "{project.schema}_dbt_test__audit" cascade')


def _registry(project, view):
    return f'"{project.schema}_dbt_learn_registry".{view}'


# --- passing and failing as dbt tests -------------------------------------------------------------------------------

@pytest.mark.parametrize("name", POSITIVE_TESTS)
def test_quality_tests_of_good_models_pass_in_the_build(project, name):
    assert project.build.status(name) == "pass", project.build.message(name)


def test_tests_tagged_expect_failure_are_left_out_of_the_build(project):
    assert not [r.node.name for r in project.build.results if "expect_failure" in r.node.tags]


def test_a_metric_below_min_value_fails_with_one_row(negative_run):
    assert negative_run.status("expect_fail_r2_at_least_1_5") == "fail"
    assert _failures(negative_run, "expect_fail_r2_at_least_1_5") == 1


def test_a_metric_above_max_value_fails_with_one_row(negative_run):
    assert negative_run.status("expect_fail_rmse_at_most_0") == "fail"
    assert _failures(negative_run, "expect_fail_rmse_at_most_0") == 1


def test_severity_warn_turns_a_failing_threshold_into_a_warning(negative_run):
    assert negative_run.status("expect_warn_r2_at_least_2_with_severity_warn") == "warn"


def test_predictions_out_of_range_fail_one_row_each(negative_run, project, dbt_conn):
    outside = query(dbt_conn, f"""select count(*) from "{project.schema}".quality_regressor_scores
                                  where prediction < -8 or prediction > 8""")[0][0]
    assert outside == 3  # 10.0 twice and -13.875: the exact formula's values, ridge shrinks them only slightly
    assert negative_run.status(OUT_OF_RANGE) == "fail"
    assert _failures(negative_run, OUT_OF_RANGE) == outside


def test_warn_if_and_error_if_judge_the_failing_row_count(negative_run):
    # dbt: error when error_if holds, else warn when warn_if holds, else pass - on the number of failing rows.
    assert negative_run.status(OUT_OF_RANGE_WARN_IF) == "warn"  # 3 rows: > 0, not > 100
    assert _failures(negative_run, OUT_OF_RANGE_WARN_IF) == 3
    assert negative_run.status(OUT_OF_RANGE_TOLERATED) == "pass"  # 3 rows: neither > 100


def test_predictions_that_are_not_classes_of_the_trained_model_fail(negative_run):
    name = "expect_fail_regression_predictions_in_classifier_classes"
    assert negative_run.status(name) == "fail"
    assert _failures(negative_run, name) == 12  # every regression score is a number, not 'high' or 'low'


# --- misconfigured tests are errors naming the model ------------------------------------------------------------------

METRIC_ERRORS = {
    "unknown_metric": ("r2_score", ["unknown metric 'r2_score'", "regression metrics are: r2, mae, rmse"]),
    "another_tasks_metric": ("accuracy", ["'accuracy' is a classification metric", "this is a regression model"]),
}


@pytest.mark.parametrize("case", METRIC_ERRORS, ids=list(METRIC_ERRORS))
def test_a_metric_the_version_does_not_have_is_an_error_listing_those_it_has(regressing, case):
    metric, expected = METRIC_ERRORS[case]
    name = f"threshold_on_{case}"
    result = _run_temp_tests(regressing, _tests_on("regressing_model", {
        "name": name, "test": "ml_metric_threshold", "arguments": {"metric": metric, "min_value": 0.5}}), name)
    assert not result.success
    assert result.status(name) == "error"
    message = result.message(name)
    for fragment in ["ml_metric_threshold on model 'regressing_model'", *expected, "Metrics of version"]:
        assert fragment in message, message
    recorded = message.split("Metrics of version")[1]
    assert "r2" in recorded and "rmse" in recorded, message


def test_a_model_with_no_trained_version_is_an_error(project):
    project.write("models/quality_tmp/never_trained.sql", "select 1 as y")
    name = "threshold_on_never_trained"
    try:
        result = _run_temp_tests(project, _tests_on("never_trained", {
            "name": name, "test": "ml_metric_threshold", "arguments": {"metric": "r2", "min_value": 0.5}}), name)
    finally:
        project.remove("models/quality_tmp/never_trained.sql")
    assert result.status(name) == "error"
    assert "model 'never_trained'" in result.message(name)
    assert "has no trained version" in result.message(name)


# --- ml_no_regression -------------------------------------------------------------------------------------------------

def test_a_worse_retrained_version_fails_no_regression_showing_both_versions(regressing, dbt_conn):
    schema = regressing.schema
    first = latest_version(dbt_conn, schema, "regressing_model")
    # Only x1 of y = 1 + 2*x1 - 3*x2: the config changed, so the next run trains (and deploys) a worse version.
    regressing.write(REGRESSING_MODEL_PATH,
                     REGRESSING_MODEL.replace("'id_columns'", "'features': ['x1'], 'id_columns'"))
    trained = regressing.dbt("run", "-s", "regressing_model")
    assert trained.success, trained.output
    assert latest_version(dbt_conn, schema, "regressing_model") == first + 1

    tests = [{"name": "r2_no_regression", "test": "ml_no_regression", "arguments": {"metric": "r2"}},
             {"name": "rmse_no_regression", "test": "ml_no_regression", "arguments": {"metric": "rmse"}},
             {"name": "r2_no_regression_tolerating_2", "test": "ml_no_regression",
              "arguments": {"metric": "r2", "tolerance": 2}}]
    result = _run_temp_tests(regressing, _tests_on("regressing_model", *tests), *[t["name"] for t in tests],
                             extra=["--store-failures"])

    assert result.status("r2_no_regression") == "fail"
    assert result.status("rmse_no_regression") == "fail"  # rmse: lower is better, by default
    assert result.status("r2_no_regression_tolerating_2") == "pass"  # r2 fell by about 1
    row = query(dbt_conn, f"""select metric, better, baseline_version, baseline_value, newest_version, newest_value
                              from "{schema}_dbt_test__audit".r2_no_regression""")
    assert len(row) == 1
    metric, better, baseline_version, baseline_value, newest_version, newest_value = row[0]
    assert (metric, better, baseline_version, newest_version) == ("r2", "higher", first, first + 1)
    assert baseline_value > 0.999999 and newest_value < baseline_value - 0.5


# --- the package's registry views -------------------------------------------------------------------------------------

def test_ml_models_has_one_row_per_trained_model_with_its_deployed_version(project, dbt_conn):
    expected = query(dbt_conn, """
        select v.model_name, coalesce(d.version, max(v.version)), max(v.version), count(*)
        from dbt_learn.model_versions v
        left join dbt_learn.deployed_versions d using (model_schema, model_name)
        where v.model_schema = %s group by v.model_name, d.version order by 1""", [project.schema])
    rows = query(dbt_conn, f"""select model_name, deployed_version, latest_version, version_count
                               from {_registry(project, 'ml_models')} where model_schema = %s order by 1""",
                 [project.schema])
    assert rows == expected
    assert {"label_model", "linear_model", "python_label_model", "quality_classifier"} <= {r[0] for r in rows}


def test_ml_models_headline_metric_is_accuracy_r2_or_silhouette_of_the_deployed_version(project, dbt_conn):
    rows = dict((name, (task, metric, value, metrics)) for name, task, metric, value, metrics in query(
        dbt_conn, f"""select model_name, task, headline_metric, headline_value, metrics
                      from {_registry(project, 'ml_models')} where model_schema = %s""", [project.schema]))
    assert rows["quality_classifier"][:2] == ("classification", "accuracy")
    assert rows["quality_classifier"][2] == rows["quality_classifier"][3]["accuracy"]
    assert rows["linear_model"][:2] == ("regression", "r2") and rows["linear_model"][2] > 0.999999
    # Trained without a holdout: no accuracy, so the headline value is null rather than an error.
    assert rows["label_model"][1:3] == ("accuracy", rows["label_model"][3].get("accuracy"))


def test_ml_model_versions_marks_the_deployed_version_of_each_model(project, dbt_conn):
    deployed = query(dbt_conn, f"""select model_name, array_agg(version) filter (where is_deployed)
                                   from {_registry(project, 'ml_model_versions')} where model_schema = %s
                                   group by model_name order by 1""", [project.schema])
    models = query(dbt_conn, f"""select model_name, array[deployed_version] from {_registry(project, 'ml_models')}
                                 where model_schema = %s order by 1""", [project.schema])
    assert deployed == models


def test_ml_feature_stats_has_one_row_per_feature_with_its_training_statistics(project, dbt_conn):
    version = latest_version(dbt_conn, project.schema, "linear_model")
    stats = query(dbt_conn, """select training_stats from dbt_learn.model_versions
                               where model_schema = %s and model_name = 'linear_model' and version = %s""",
                  [project.schema, version])[0][0]
    rows = query(dbt_conn, f"""
        select feature_position, feature_name, feature_type, feature_kind, count, nulls, mean, min, max, quantiles,
               frequencies, categories
        from {_registry(project, 'ml_feature_stats')}
        where model_schema = %s and model_name = 'linear_model' and version = %s order by feature_position""",
                 [project.schema, version])
    assert [r[:4] for r in rows] == [(1, "x1", "double precision", "numeric"), (2, "x2", "double precision", "numeric")]
    for _, name, _, _, count, nulls, mean, low, high, quantiles, frequencies, categories in rows:
        assert (count, nulls) == (30, 0)
        assert (mean, low, high) == (stats[name]["mean"], stats[name]["min"], stats[name]["max"])
        assert (quantiles, frequencies) == (stats[name].get("quantiles"), stats[name].get("frequencies"))
        assert categories is None


def test_ml_deployments_lists_each_deployment_with_its_versions_headline_metric(project, dbt_conn):
    logged = query(dbt_conn, """select deployment_id, version, strategy from dbt_learn.deployments
                                where model_schema = %s and model_name = 'quality_classifier' order by 1""",
                   [project.schema])
    rows = query(dbt_conn, f"""select deployment_id, version, strategy, previous_version, headline_metric,
                                      headline_value, metrics
                               from {_registry(project, 'ml_deployments')}
                               where model_schema = %s and model_name = 'quality_classifier' order by 1""",
                 [project.schema])
    assert [r[:3] for r in rows] == logged and logged
    assert rows[0][3] is None
    for *_, headline_metric, headline_value, metrics in rows:
        assert headline_metric == "accuracy" and headline_value == metrics["accuracy"]
