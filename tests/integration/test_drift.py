"""Drift in plain SQL (ml_feature_drift, ml_prediction_drift, the ml_drift_threshold test): the SQL's PSI, Jensen-
Shannon distance and KS statistic equal numpy/scipy on the same rows and bins; unshifted days are stable, the
shifted day significant; bad input is an error naming the model and the column. Fixtures:
integration_tests/models/monitoring/drift/ (days 1-2 of drift_events drawn like the training rows, day 3 shifted)."""

import datetime as dt
from collections import defaultdict

import numpy as np
import psycopg
import pytest
from scipy.spatial.distance import jensenshannon

from .conftest import query
from .harness import connection_info

EPSILON = 1e-4  # drift_sql: shares below it count as it in PSI
TMP = "models/monitoring/drift_tmp/"


# --- the reference: the same bins and formulas in numpy/scipy ------------------------------------------------------

def reference(values, baseline):
    """n, null_share, psi, js, ks of one bucket's values of one feature against one stored baseline entry."""
    present = [v for v in values if v is not None]
    if isinstance(baseline.get("categories"), dict):
        listed = baseline["categories"]
        expected = np.array([*listed.values(), max(0.0, 1 - sum(listed.values()))])  # the last: "other"
        counts = np.array([sum(v == name for v in present) for name in listed]
                          + [sum(v not in listed for v in present)])
    else:
        edges = np.array(baseline["quantiles"])
        expected = np.array(baseline["frequencies"])
        # numpy.histogram's bins ([e_i, e_i+1), the last closed), values outside the edges in the end bins.
        counts, _ = np.histogram(np.clip(present, edges[0], edges[-1]), bins=edges)
    actual, expected = counts / len(present), expected / expected.sum()
    a, b = np.maximum(actual, EPSILON), np.maximum(expected, EPSILON)
    ks = None if isinstance(baseline.get("categories"), dict) else np.max(np.abs(np.cumsum(actual - expected)))
    return {"n": len(values), "null_share": 1 - len(present) / len(values),
            "psi": float(np.sum((a - b) * np.log(a / b))),
            "js_distance": float(jensenshannon(actual, expected, base=2)),
            "ks_statistic": None if ks is None else float(ks)}


def by_day(rows):
    """{(day, column): [values]} from (event_at, {column: value}) rows, as the SQL buckets them ('1 day', UTC)."""
    grouped = defaultdict(list)
    for at, values in rows:
        for column, value in values.items():
            grouped[(at.date(), column)].append(value)
    return grouped


def drift_rows(conn, schema, table):
    rows = query(conn, f"""select bucket_start, feature, n, null_share, psi, js_distance, ks_statistic, band,
                                  baseline_version
                           from "{schema}".{table}""")
    return {(r[0].astimezone(dt.timezone.utc).date(), r[1]): dict(zip(
        ["n", "null_share", "psi", "js_distance", "ks_statistic", "band", "baseline_version"], r[2:])) for r in rows}


def assert_matches_reference(sql, grouped, baselines):
    assert set(sql) == set(grouped)
    for key, values in grouped.items():
        expected = reference(values, baselines[key[1]])
        for metric, value in expected.items():
            assert sql[key][metric] == (None if value is None else pytest.approx(value, rel=1e-9, abs=1e-12)), \
                (key, metric)


def registry_row(conn, schema, model, column):
    return query(conn, f"""select version, {column} from dbt_learn.model_versions where model_schema = %s
                           and model_name = %s order by version desc limit 1""", [schema, model])[0]


def events(conn, schema, columns, table="drift_events"):
    rows = query(conn, f"""select event_at, {', '.join(columns)} from "{schema}".{table}
                           where event_at is not null and event_at <= now()""")
    return [(r[0], dict(zip(columns, r[1:]))) for r in rows]


# --- feature drift ---------------------------------------------------------------------------------------------------

def test_feature_drift_equals_numpy_and_scipy_on_the_same_rows(project, dbt_conn):
    version, stats = registry_row(dbt_conn, project.schema, "drift_classifier", "training_stats")
    sql = drift_rows(dbt_conn, project.schema, "drift_features")
    assert_matches_reference(sql, by_day(events(dbt_conn, project.schema, ["x1", "x2", "channel"])), stats)
    assert {row["baseline_version"] for row in sql.values()} == {version}


def test_unshifted_days_are_stable_and_the_shifted_day_is_significant(project, dbt_conn):
    sql = drift_rows(dbt_conn, project.schema, "drift_features")
    bands = {(day.day, feature): row["band"] for (day, feature), row in sql.items()}
    assert bands == {(1, "x1"): "stable", (2, "x1"): "stable", (3, "x1"): "significant",
                     (1, "channel"): "stable", (2, "channel"): "stable", (3, "channel"): "significant",
                     (1, "x2"): "stable", (2, "x2"): "stable", (3, "x2"): "stable"}
    assert sql[(dt.date(2024, 3, 3), "x1")]["ks_statistic"] > 0.3
    assert sql[(dt.date(2024, 3, 3), "channel")]["ks_statistic"] is None  # categories have no order


def test_nulls_count_in_null_share_and_shares_are_of_the_other_values(project, dbt_conn):
    sql = drift_rows(dbt_conn, project.schema, "drift_features")
    assert sql[(dt.date(2024, 3, 2), "x2")]["n"] == 400
    assert sql[(dt.date(2024, 3, 2), "x2")]["null_share"] == pytest.approx(0.1)
    assert sql[(dt.date(2024, 3, 2), "x2")]["band"] == "stable"


def test_a_new_category_falls_in_the_other_bin_and_is_significant(project, dbt_conn):
    _, stats = registry_row(dbt_conn, project.schema, "drift_classifier", "training_stats")
    assert set(stats["channel"]["categories"]) == {"web", "email", "ads"}  # 'social' appears on day 3 only
    day3 = [v["channel"] for at, v in events(dbt_conn, project.schema, ["channel"]) if at.day == 3]
    assert day3.count("social") / len(day3) == pytest.approx(0.3, abs=0.06)
    psi = drift_rows(dbt_conn, project.schema, "drift_features")[(dt.date(2024, 3, 3), "channel")]["psi"]
    assert psi == pytest.approx(reference(day3, stats["channel"])["psi"], rel=1e-9)
    # Its baseline share is what the top categories leave (0 here): the epsilon makes 'social' weigh heavily.
    assert psi > 1


def test_rows_with_a_null_time_or_after_as_of_are_in_no_bucket(project, dbt_conn):
    sql = drift_rows(dbt_conn, project.schema, "drift_features")
    assert sorted({day for day, _ in sql}) == [dt.date(2024, 3, d) for d in (1, 2, 3)]  # not 2999
    assert all(row["n"] == 400 for row in sql.values())  # nor the NULL event_at row
    model = """{{ config(materialized='table') }}
{{ dbt_learn.ml_feature_drift(ref('drift_classifier'), ref('drift_events'), 'event_at', features='x1') }}"""
    result = project.dbt_with({TMP + "drift_as_of.sql": model}, "run", "-s", "drift_as_of",
                              "--vars", "{dbt_learn_as_of: '2024-03-02 12:00:00+00'}")
    assert result.success, result.output
    rows = query(dbt_conn, f'select bucket_start::date, n from "{project.schema}".drift_as_of order by 1')
    assert rows == [(dt.date(2024, 3, 1), 400), (dt.date(2024, 3, 2), 201)]  # as of is inclusive: 00:00..12:00


def test_twelve_hour_buckets_of_a_pinned_version_and_one_feature(project, dbt_conn):
    rows = query(dbt_conn, f"""select bucket_start, feature, n, baseline_version
                               from "{project.schema}".drift_regressor_features order by 1""")
    starts = [dt.datetime(2024, 3, d, h, tzinfo=dt.timezone.utc) for d in (1, 2, 3) for h in (0, 12)]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(s, "x1", 200, 1) for s in starts]


def test_a_baseline_relation_like_ml_feature_stats_gives_the_registry_numbers(project, dbt_conn):
    _, stats = registry_row(dbt_conn, project.schema, "drift_regressor", "training_stats")
    sql = drift_rows(dbt_conn, project.schema, "drift_from_feature_stats")
    assert_matches_reference(sql, by_day(events(dbt_conn, project.schema, ["x1", "x2"])), stats)


def test_a_hand_written_baseline_runs_without_the_registry(project, dbt_conn):
    baselines = {name: {"quantiles": [-3, -1, 0, 1, 3], "frequencies": [0.15, 0.35, 0.35, 0.15]} if name == "x1"
                 else {"categories": {"web": 0.5, "email": 0.3, "ads": 0.2}} for name in ("x1", "channel")}
    sql = drift_rows(dbt_conn, project.schema, "drift_manual")
    assert_matches_reference(sql, by_day(events(dbt_conn, project.schema, ["x1", "channel"])), baselines)
    assert {row["baseline_version"] for row in sql.values()} == {None}
    # Day 3 has x1 values above the last edge (3): they count in the last bin, as in training.
    assert query(dbt_conn, f"""select count(*) from "{project.schema}".drift_events
                               where event_at::date = '2024-03-03' and x1 > 3""")[0][0] > 0


def test_a_hand_written_baseline_builds_on_postgres_without_pl_python(project, dbt_conn):
    plain = dict(connection_info(), dbname=connection_info()["dbname"] + "_plain")
    result = project.dbt("build", "-s", "drift_events", "drift_manual_baseline", "drift_manual", "--exclude",
                         "tag:expect_failure", "--target", "plain")
    with psycopg.connect(**plain, autocommit=True) as conn:
        try:
            assert result.success, result.output
            assert not query(conn, "select 1 from pg_language where lanname like 'plpython%'")
            assert drift_rows(conn, project.schema, "drift_manual") == drift_rows(dbt_conn, project.schema,
                                                                                   "drift_manual")
        finally:
            conn.execute(f'drop schema if exists "{project.schema}" cascade')


# --- prediction drift ------------------------------------------------------------------------------------------------

def test_the_prediction_baseline_is_keyed_by_the_scores_columns(project, dbt_conn):
    _, evaluation = registry_row(dbt_conn, project.schema, "drift_classifier", "evaluation")
    holdout_rows = registry_row(dbt_conn, project.schema, "drift_classifier", "holdout_rows")[1]
    baseline = evaluation["prediction_stats"]
    columns = [r[0] for r in query(dbt_conn, """select column_name from information_schema.columns
                                                where table_schema = %s and table_name = 'drift_classifier_scores'
                                                and (column_name = 'prediction' or column_name like 'probability%%')""",
                                   [project.schema])]
    assert set(baseline) == set(columns) == {"prediction", "probability_false", "probability_true"}
    assert {entry["source"] for entry in baseline.values()} == {"holdout"}
    assert {entry["count"] for entry in baseline.values()} == {holdout_rows} == {500}
    assert baseline["probability_true"]["class"] == "True"


def test_classifier_prediction_drift_equals_numpy_and_scipy(project, dbt_conn):
    version, evaluation = registry_row(dbt_conn, project.schema, "drift_classifier", "evaluation")
    rows = events(dbt_conn, project.schema, ["prediction", "probability_false", "probability_true"],
                  table="drift_classifier_scores")
    # The log holds booleans; the baseline names classes as the registry does ('True', 'False').
    rows = [(at, {**values, "prediction": str(values["prediction"])}) for at, values in rows]
    sql = drift_rows(dbt_conn, project.schema, "drift_classifier_predictions")
    assert_matches_reference(sql, by_day(rows), evaluation["prediction_stats"])
    assert {(day.day, row["band"]) for (day, _), row in sql.items()} == {(1, "stable"), (2, "stable"),
                                                                         (3, "significant")}


def test_regressor_prediction_drift_equals_numpy_and_scipy(project, dbt_conn):
    _, evaluation = registry_row(dbt_conn, project.schema, "drift_regressor", "evaluation")
    sql = drift_rows(dbt_conn, project.schema, "drift_regressor_predictions")
    rows = events(dbt_conn, project.schema, ["prediction"], table="drift_regressor_scores")
    assert_matches_reference(sql, by_day(rows), evaluation["prediction_stats"])
    assert [sql[(dt.date(2024, 3, d), "prediction")]["band"] for d in (1, 2, 3)] == ["stable", "stable",
                                                                                      "significant"]


# --- the ml_drift_threshold test -------------------------------------------------------------------------------------

POSITIVE = ["drift_x2_psi_at_most_0_25", "drift_null_share_at_most_0_2", "drift_psi_tolerating_5_rows",
            "drift_manual_js_at_most_0_6"]
NEGATIVE = {  # name: (status, failing rows)
    "expect_fail_drift_psi_at_most_0_25": ("fail", 2),
    "expect_warn_drift_psi_at_most_0_25_with_severity_warn": ("warn", 2),
    "expect_warn_drift_js_warn_if_error_if": ("warn", 2),
    "expect_fail_drift_x2_null_share_at_most_0_05": ("fail", 1),
    "expect_fail_drift_last_bucket_predictions_psi": ("fail", 3),
    "expect_fail_drift_regressor_prediction_ks_at_most_0_3": ("fail", 1),
}


@pytest.fixture(scope="module")
def negative_run(project, dbt_conn):
    yield project.dbt("test", "-s", *NEGATIVE, "--store-failures")
    dbt_conn.execute(f'drop schema if exists "{project.schema}_dbt_test__audit" cascade')


@pytest.mark.parametrize("name", POSITIVE)
def test_drift_thresholds_that_hold_pass_in_the_build(project, name):
    assert project.build.status(name) == "pass", project.build.message(name)


@pytest.mark.parametrize("name", NEGATIVE)
def test_drift_above_the_threshold_fails_or_warns_with_one_row_per_bucket_and_feature(negative_run, name):
    status, failures = NEGATIVE[name]
    assert negative_run.status(name) == status
    assert next(r.failures for r in negative_run.results if r.node.name == name) == failures


def test_the_failing_rows_name_the_bucket_the_feature_and_the_value(negative_run, project, dbt_conn):
    rows = query(dbt_conn, f"""select bucket_start::date, feature, metric, value > max_value, band
                               from "{project.schema}_dbt_test__audit".expect_fail_drift_psi_at_most_0_25
                               order by feature""")
    assert rows == [(dt.date(2024, 3, 3), "channel", "psi", True, "significant"),
                    (dt.date(2024, 3, 3), "x1", "psi", True, "significant")]
    last = query(dbt_conn, f"""select distinct bucket_start::date from
                               "{project.schema}_dbt_test__audit".expect_fail_drift_last_bucket_predictions_psi""")
    assert last == [(dt.date(2024, 3, 3),)]


# --- bad input: clear errors naming the model and the column --------------------------------------------------------

def _drift_model(call):
    return "{{ config(materialized='table') }}\n{{ dbt_learn." + call + " }}\n"


ERRORS = {
    "drift_err_unknown_feature": (
        _drift_model("ml_feature_drift(ref('drift_classifier'), ref('drift_events'), 'event_at', features=['x1', "
                     "'x9'])"),
        ["ml_feature_drift(drift_classifier)", "feature 'x9' is missing from the baseline of model "
         "'drift_classifier' v1", "it has: x1, x2, channel"]),
    "drift_err_feature_not_in_relation": (
        _drift_model("ml_feature_drift(ref('drift_regressor'), ref('drift_regressor_scores'), 'event_at')"),
        ["ml_feature_drift(drift_regressor)", "feature 'x1' of the baseline of model 'drift_regressor' v1 is not a "
         "column of relation", "Choose the ones to compare with features=[...]"]),
    "drift_err_no_version": (
        _drift_model("ml_feature_drift(ref('drift_events'), ref('drift_events'), 'event_at')"),
        ["ml_feature_drift(drift_events)", "model 'drift_events'", "has no trained version in the registry, so no "
         "stored baseline"]),
    "drift_err_missing_version": (
        _drift_model("ml_prediction_drift(ref('drift_regressor'), ref('drift_regressor_scores'), 'event_at', "
                     "version=99)"),
        ["ml_prediction_drift(drift_regressor)", "has no version 99; its versions are: 1"]),
    "drift_err_month_bucket": (
        _drift_model("ml_feature_drift(ref('drift_regressor'), ref('drift_events'), 'event_at', bucket='1 month')"),
        ["bucket '1 month' is not an interval like"]),
    "drift_err_text_time": (
        _drift_model("ml_feature_drift(ref('drift_regressor'), ref('drift_events'), 'channel')"),
        ["time_column 'channel'", "has type text"]),
    "drift_err_duplicate_baseline": (
        _drift_model("ml_feature_drift('manual_model', ref('drift_events'), 'event_at', "
                     "baseline=ref('drift_err_doubled'))"),
        ["has 2 rows for feature", "one per feature"]),
}
DOUBLED = ("select * from {{ ref('drift_manual_baseline') }} union all "
           "select * from {{ ref('drift_manual_baseline') }}")


def test_bad_arguments_are_errors_naming_the_model_and_the_column(project):
    files = {TMP + f"{name}.sql": text for name, (text, _) in ERRORS.items()}
    files[TMP + "drift_err_doubled.sql"] = DOUBLED
    result = project.dbt_with(files, "run", "-s", "drift_err_doubled", *ERRORS)
    for name, (_, fragments) in ERRORS.items():
        assert result.status(name) == "error", name
        for fragment in fragments:
            assert fragment in result.message(name), (name, result.message(name))


def test_a_version_without_a_prediction_baseline_says_to_retrain(project, admin_conn, dbt_conn):
    """Versions trained before prediction_stats existed: a registry row copied with an empty evaluation."""
    admin_conn.execute("""insert into dbt_learn.model_versions
                          select (jsonb_populate_record(v, jsonb_build_object(
                              'model_name', 'drift_old_model', 'evaluation', '{}'::jsonb))).*
                          from dbt_learn.model_versions as v
                          where model_schema = %s and model_name = 'drift_regressor' and version = 1""",
                       [project.schema])
    files = {TMP + "drift_old_model.sql": "select 1 as x",
             TMP + "drift_old_predictions.sql": _drift_model(
                 "ml_prediction_drift(ref('drift_old_model'), ref('drift_regressor_scores'), 'event_at')")}
    result = project.dbt_with(files, "run", "-s", "drift_old_model", "drift_old_predictions")
    assert result.status("drift_old_model") == "success"
    assert result.status("drift_old_predictions") == "error"
    assert ("model 'drift_old_model' v1 has no stored prediction baseline; retrain it (dbt run --full-refresh -s "
            "drift_old_model)") in result.message("drift_old_predictions")


def test_a_misconfigured_drift_test_is_an_error_naming_the_model(project):
    yml = """version: 2
models:
  - name: drift_err_tested
    data_tests:
      - dbt_learn.ml_drift_threshold: {name: drift_err_metric, arguments: {metric: accuracy}}
"""
    files = {TMP + "drift_err_tested.sql": "select * from {{ ref('drift_features') }}", TMP + "drift_err.yml": yml}
    result = project.dbt_with(files, "test", "-s", "drift_err_metric")
    assert result.status("drift_err_metric") == "error"
    assert ("test ml_drift_threshold on model 'drift_err_tested'" in result.message("drift_err_metric"))
    assert "unknown metric 'accuracy'; drift metrics are: psi, js_distance, ks_statistic, null_share" in \
        result.message("drift_err_metric")
