"""Trailing-window performance in plain SQL (dbt_learn.ml_performance_buckets, ml_trailing_performance) and its dbt
tests (ml_trailing_metric_threshold, ml_label_coverage): every metric of every window and slice equals
scikit-learn's on the same rows, an incremental run equals a full rebuild and reads only its batch, an empty window
is zeros and NULLs, and the tests fire on the windows that breach."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from .conftest import query

FIRST_AS_OF = "2024-03-02 12:00+00"  # the first build: the stream up to noon of day two
AS_OF = "2024-03-03 00:00+00"  # 12 hours later: new decisions, matured labels, incremental runs
MODELS = "path:models/monitoring/performance"
SEEDS = "path:seeds/monitoring/performance"
LABELLED = ["labelled", "assumed_negative"]
COSTS = {"tp": 120, "fp": -15.5, "fn": -40}  # perf_buckets' cost matrix (true_negative: none)
NEGATIVE = "tag:expect_failure,path:models/monitoring/performance"


def _as_of(value):
    return ["--vars", f"{{dbt_learn_as_of: '{value}'}}"]


@pytest.fixture(scope="module")
def perf(project):
    """Built from scratch as of FIRST_AS_OF, then as of AS_OF: incremental models run incrementally, tables rebuild."""
    first = project.dbt("build", "-s", SEEDS, MODELS, "--exclude", "tag:expect_failure", "--full-refresh",
                        *_as_of(FIRST_AS_OF))
    assert first.success, first.output
    project.perf_run = project.dbt("build", "-s", SEEDS, MODELS, "--exclude", "tag:expect_failure", *_as_of(AS_OF))
    assert project.perf_run.success, project.perf_run.output
    return project


def _frame(conn, sql):
    cursor = conn.execute(sql)
    return pd.DataFrame(cursor.fetchall(), columns=[c.name for c in cursor.description])


def _table(perf, conn, name, order="window_size, window_end"):
    return _frame(conn, f'select * from "{perf.schema}".{name} order by {order}')


def _nan_to_none(value):
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _in_window(rows, row, slices=()):
    mask = (rows.decided_at >= row.window_end - row.window_size) & (rows.decided_at < row.window_end)
    for name in slices:
        value = getattr(row, name)
        mask &= rows[name].isna() if pd.isna(value) else rows[name] == value
    return rows[mask]


def _labelled(rows):
    return rows[rows.label_status.isin(LABELLED) & rows.label.notna() & rows.prediction.notna()]


def _common(rows, labelled):
    matured = int((rows.label_status != "pending").sum())
    return {"n_predictions": len(rows), "n_labelled": len(labelled), "n_matured": matured,
            "label_coverage": len(labelled) / matured if matured else None,
            "matured_share": matured / len(rows) if len(rows) else None}


def _expected_binary(rows, max_calibration_error=0.05):
    labelled = _labelled(rows)
    y, predicted = labelled.label.astype(bool).to_numpy(), labelled.prediction.astype(bool).to_numpy()
    p = labelled.probability_true.to_numpy(dtype=float)
    everything = rows.probability_true.to_numpy(dtype=float)
    expected = _common(rows, labelled) | dict.fromkeys(
        ["accuracy", "precision", "recall", "f1", "log_loss", "brier", "roc_auc", "business_value",
         "expected_accuracy", "calibration_error", "mae", "rmse", "bias"])
    expected["estimate_trusted"] = False
    if len(rows):
        expected["expected_accuracy"] = float(np.mean(np.maximum(everything, 1 - everything)))
    if len(y):
        bins = np.minimum(np.round(p * 1000).astype(int) // 100, 9)  # 10 calibration bins of width 0.1
        ece = sum(abs(p[bins == b].sum() - y[bins == b].sum()) for b in range(10)) / len(y)
        tp, fp = int((predicted & y).sum()), int((predicted & ~y).sum())
        fn = int((~predicted & y).sum())
        expected |= {
            "accuracy": metrics.accuracy_score(y, predicted),
            "precision": _nan_to_none(metrics.precision_score(y, predicted, zero_division=np.nan)),
            "recall": _nan_to_none(metrics.recall_score(y, predicted, zero_division=np.nan)),
            "f1": _nan_to_none(metrics.f1_score(y, predicted, zero_division=np.nan)),
            "log_loss": metrics.log_loss(y, p, labels=[False, True]),
            "brier": metrics.brier_score_loss(y, p, pos_label=True),
            "roc_auc": metrics.roc_auc_score(y, p) if 0 < y.sum() < len(y) else None,
            "calibration_error": ece, "estimate_trusted": bool(ece <= max_calibration_error and len(y) >= 100),
            "business_value": COSTS["tp"] * tp + COSTS["fp"] * fp + COSTS["fn"] * fn}
    return expected


def _expected_regression(rows):
    labelled = _labelled(rows)
    y, predicted = labelled.label.to_numpy(dtype=float), labelled.prediction.to_numpy(dtype=float)
    expected = _common(rows, labelled) | {"mae": None, "rmse": None, "bias": None, "accuracy": None,
                                          "roc_auc": None, "log_loss": None, "expected_accuracy": None}
    if len(y):
        expected |= {"mae": metrics.mean_absolute_error(y, predicted),
                     "rmse": metrics.root_mean_squared_error(y, predicted), "bias": float(np.mean(predicted - y))}
    return expected


def _expected_multiclass(rows):
    labelled = _labelled(rows)
    confidence = rows[["probability_a", "probability_b", "probability_c"]].to_numpy(dtype=float).max(axis=1)
    return _common(rows, labelled) | {
        "accuracy": metrics.accuracy_score(labelled.label, labelled.prediction) if len(labelled) else None,
        "expected_accuracy": float(confidence.mean()) if len(rows) else None,
        "precision": None, "roc_auc": None, "log_loss": None, "calibration_error": None, "estimate_trusted": False,
        "mae": None}


def _assert_windows_match(table, rows, expected_for, slices=()):
    assert len(table)
    for row in table.itertuples():
        expected = expected_for(_in_window(rows, row, slices))
        for metric, value in expected.items():
            actual = _nan_to_none(getattr(row, metric))
            where = f"{metric}, {row.window_size} window ending {row.window_end} {[getattr(row, s) for s in slices]}"
            if value is None or isinstance(value, bool):
                assert actual == value, where
            else:
                assert actual == pytest.approx(value, rel=1e-9, abs=1e-12), where


def test_the_session_build_builds_every_perf_node_as_of_now(project):
    ours = [r for r in project.build.results if "monitoring/performance" in r.node.original_file_path]
    assert len(ours) >= 13 and all(str(r.status) in ("success", "pass") for r in ours), \
        [(r.node.name, str(r.status), r.message) for r in ours]


# --- every metric equals scikit-learn's on the window's rows ----------------------------------------------------------

@pytest.fixture(scope="module")
def stream(perf, dbt_conn):
    # perf_stream is a view compiled as of AS_OF: the labelled rows exactly as the buckets saw them.
    return _frame(dbt_conn, f'select * from "{perf.schema}".perf_stream')


def test_binary_metrics_of_every_window_and_segment_match_sklearn(perf, dbt_conn, stream):
    table = _table(perf, dbt_conn, "perf_trailing")
    assert set(table.window_size) == {pd.Timedelta(hours=3), pd.Timedelta(days=1), pd.Timedelta(days=7)}
    assert table.segment.isna().any()  # NULL segment values are a slice of their own
    _assert_windows_match(table, stream, _expected_binary, slices=["segment"])


def test_trailing_performance_sums_sliced_buckets_over_all_slices(perf, dbt_conn, stream):
    table = _table(perf, dbt_conn, "perf_trailing_overall")
    _assert_windows_match(table, stream, lambda rows: _expected_binary(rows, max_calibration_error=0.07))
    assert table.estimate_trusted.any() and not table.estimate_trusted.all()


def test_regression_metrics_match_sklearn(perf, dbt_conn):
    rows = _frame(dbt_conn, f'select * from "{perf.schema}".perf_regression_labelled')
    _assert_windows_match(_table(perf, dbt_conn, "perf_regression_trailing"), rows, _expected_regression)


def test_multiclass_gives_accuracy_and_the_label_free_estimate_only(perf, dbt_conn):
    rows = _frame(dbt_conn, f'select * from "{perf.schema}".perf_multiclass_labelled')
    visible = rows[rows.decided_at <= pd.Timestamp(AS_OF)]
    assert len(visible) < len(rows)  # decisions after as_of are not counted
    table = _table(perf, dbt_conn, "perf_multiclass_trailing")
    _assert_windows_match(table, visible, _expected_multiclass)


def test_the_label_free_estimate_stands_next_to_the_realised_accuracy(perf, dbt_conn):
    newest = _frame(dbt_conn, f"""select accuracy, expected_accuracy, calibration_error, estimate_trusted
        from "{perf.schema}".perf_trailing_overall where window_size = interval '1 day'
        and window_end = '2024-03-02 14:00+00'""").iloc[0]
    assert abs(newest.accuracy - newest.expected_accuracy) < 0.01
    assert newest.calibration_error <= 0.07 and newest.estimate_trusted


# --- empty windows, one-class windows, costs --------------------------------------------------------------------------

def test_a_window_with_no_rows_has_zero_counts_and_null_metrics(perf, dbt_conn):
    empty = _frame(dbt_conn, f"""select * from "{perf.schema}".perf_trailing_overall where n_predictions = 0
                                 order by window_end""")
    # No decisions from 10:00 to 14:00 on day one: the 3-hour windows ending at 13:00 and 14:00 are empty.
    assert [str(t) for t in empty.window_end] == ["2024-03-01 13:00:00+00:00", "2024-03-01 14:00:00+00:00"]
    assert (empty[["n_labelled", "n_matured"]] == 0).all().all()
    assert not empty.estimate_trusted.any()
    nullable = [c for c in empty.columns if c not in ("window_end", "window_size", "n_predictions", "n_labelled",
                                                      "n_matured", "estimate_trusted", "computed_at")]
    assert empty[nullable].isna().all().all(), empty[nullable]


def test_a_window_with_one_class_has_no_roc_auc_precision_or_recall(perf, dbt_conn):
    row = _frame(dbt_conn, f"""select * from "{perf.schema}".perf_trailing_overall
                               where window_end = '2024-03-01 15:00+00' and window_size = interval '3 hours'""")
    assert row.n_labelled[0] == 3 and row.accuracy[0] == 1.0
    assert row[["roc_auc", "precision", "recall", "f1"]].isna().all().all()
    assert row.business_value[0] == 0  # three true negatives, which the cost matrix does not value


def test_business_value_applies_the_cost_matrix_to_the_bucket_counts(perf, dbt_conn):
    tp, fp, fn, tn, value = query(dbt_conn, f"""select sum(tp)::int, sum(fp)::int, sum(fn)::int, sum(tn)::int,
                                              sum(business_value) from "{perf.schema}".perf_buckets""")[0]
    assert tp > 0 and fp > 0 and fn > 0 and tn > 0
    assert value == pytest.approx(120 * tp - 15.5 * fp - 40 * fn)


def test_buckets_count_each_prediction_once_by_its_label_status(perf, dbt_conn, stream):
    counts = query(dbt_conn, f"""select sum(n_predictions), sum(n_labelled), sum(n_matured),
                                 sum(coalesce(array_length(score_bin_positives, 1), 0)) / count(*)
                                 from "{perf.schema}".perf_buckets""")[0]
    assert counts == (len(stream), len(_labelled(stream)), int((stream.label_status != "pending").sum()), 1000)


# --- incremental ------------------------------------------------------------------------------------------------------

def _assert_same_rows(actual, expected):
    """Equal but for computed_at; sums of floats may differ in the last bit (another summation order)."""
    assert list(actual.columns) == list(expected.columns) and len(actual) == len(expected)
    for column in actual.columns.drop("computed_at"):
        for a, b in zip(actual[column], expected[column]):
            if isinstance(a, float):
                assert a == pytest.approx(b, rel=1e-12, nan_ok=True), column
            else:
                assert a == b or (a is None and b is None), column


@pytest.mark.parametrize("incremental, full, order", [
    ("perf_buckets_incremental", "perf_buckets", "bucket_start, segment nulls first"),
    ("perf_trailing_incremental", "perf_trailing", "window_end, window_size, segment nulls first")])
def test_an_incremental_run_equals_a_full_rebuild(perf, dbt_conn, incremental, full, order):
    assert perf.perf_run.message(incremental).startswith("INSERT")  # delete+insert: the incremental path ran
    _assert_same_rows(_table(perf, dbt_conn, incremental, order), _table(perf, dbt_conn, full, order))


def test_an_incremental_run_recomputes_only_recent_and_pending_buckets(perf, dbt_conn):
    runs = dict(query(dbt_conn, f"""select computed_at::text, min(bucket_start)::text
                                    from "{perf.schema}".perf_buckets_incremental group by 1"""))
    # At noon on day two the labels of 06:00-12:00 were pending: the second run recomputed from 06:00 on.
    assert runs == {"2024-03-02 12:00:00+00": "2024-03-01 00:00:00+00",
                    "2024-03-03 00:00:00+00": "2024-03-02 06:00:00+00"}


INDEXED_MODEL = """
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='bucket_start') }}
{{ dbt_learn.ml_performance_buckets(adapter.get_relation(target.database, target.schema, 'perf_indexed_log'),
                                    positive_value=true, score_column='probability_true', recompute='2 hours') }}
"""


def test_an_incremental_run_reads_only_its_batch_through_an_index_on_decided_at(perf, dbt_conn):
    log = f'"{perf.schema}".perf_indexed_log'
    dbt_conn.execute(f"""create table {log} as
        select 'k' || i as key, timestamptz '2024-01-01 00:00+00' + i * interval '10 seconds' as decided_at,
               (i % 3 = 0) as prediction, (i % 997) / 1000.0 as probability_true, (i % 2 = 0) as label,
               'labelled'::text as label_status, true as is_matured
        from generate_series(1, 200000) as i""")
    dbt_conn.execute(f"create index on {log} (decided_at)")
    dbt_conn.execute(f"analyze {log}")
    files = {"models/perf_tmp/perf_indexed_buckets.sql": INDEXED_MODEL}
    try:
        for _ in range(2):  # the first run builds the table, the second is incremental
            result = perf.dbt_with(files, "run", "-s", "perf_indexed_buckets", *_as_of("2024-01-24 04:00+00"))
            assert result.success, result.output
        compiled = next(r.node.compiled_code for r in result.results)
        plan = query(dbt_conn, "explain (analyze, format json) " + compiled)[0][0][0]["Plan"]
        scans = []

        def walk(node):
            if node.get("Relation Name") == "perf_indexed_log":
                scans.append(node)
            for child in node.get("Plans", []):
                walk(child)
        walk(plan)
        assert [s["Node Type"] for s in scans] in (["Index Scan"], ["Bitmap Heap Scan"], ["Index Only Scan"]), \
            json.dumps(plan)[:2000]
        assert scans[0]["Actual Rows"] <= 2 * 360  # the last two hours of 10-second rows, not the 200,000
    finally:
        dbt_conn.execute(f"drop table if exists {log} cascade")
        dbt_conn.execute(f'drop table if exists "{perf.schema}".perf_indexed_buckets')


# --- the dbt tests: pass, fail, warn, one failing row per breaching window --------------------------------------------

@pytest.fixture(scope="module")
def negative_run(perf, dbt_conn):
    yield perf.dbt("test", "-s", NEGATIVE, "--store-failures", *_as_of(AS_OF))
    dbt_conn.execute(f'drop schema if exists "{perf.schema}_dbt_test__audit" cascade')


def _failures(result, name):
    return next(r.failures for r in result.results if r.node.name == name)


def _breaching(perf, conn, metric, window, below=None, above=None, min_labelled=1):
    table = _frame(conn, f"""select * from "{perf.schema}".perf_trailing where window_size = interval '{window}'
                             and n_labelled >= {min_labelled}""")
    values = table[metric].astype(float)
    return table[(values < below) if below is not None else (values > above)]


@pytest.mark.parametrize("name", ["perf_overall_daily_accuracy_at_least_0_6",
                                  "perf_overall_daily_label_coverage_at_least_0_8",
                                  "perf_weekly_roc_auc_between_0_6_and_1"])
def test_thresholds_that_hold_pass_in_the_build(perf, name):
    assert perf.perf_run.status(name) == "pass", perf.perf_run.message(name)


def test_a_metric_below_min_value_fails_with_a_row_naming_each_breaching_window(perf, dbt_conn, negative_run):
    name = "expect_fail_perf_3h_accuracy_at_least_0_75"
    breaching = _breaching(perf, dbt_conn, "accuracy", "3 hours", below=0.75)
    assert negative_run.status(name) == "fail"
    assert _failures(negative_run, name) == len(breaching) > 1
    stored = _frame(dbt_conn, f"""select failure, metric, metric_value, min_value, window_end, window_size, segment
                                  from "{perf.schema}_dbt_test__audit".{name} order by window_end, segment""")
    assert (stored.metric == "accuracy").all() and (stored.metric_value < 0.75).all()
    first = stored.iloc[0]
    assert first.failure == (f"accuracy = {round(first.metric_value, 4):.4f}, below min_value 0.75, in the "
                             f"03:00:00 window ending {first.window_end:%Y-%m-%d %H:%M:%S}+00")


def test_a_metric_above_max_value_fails(perf, dbt_conn, negative_run):
    name = "expect_fail_perf_daily_log_loss_at_most_0_6"
    assert negative_run.status(name) == "fail"
    assert _failures(negative_run, name) == len(_breaching(perf, dbt_conn, "log_loss", "1 day", above=0.6))


def test_severity_warn_and_warn_if_error_if_turn_the_breach_into_a_warning(negative_run):
    for name in ["expect_warn_perf_3h_accuracy_at_least_0_75_severity_warn",
                 "expect_warn_perf_3h_accuracy_at_least_0_75_warn_if_error_if"]:
        assert negative_run.status(name) == "warn", name
        assert _failures(negative_run, name) == _failures(negative_run, "expect_fail_perf_3h_accuracy_at_least_0_75")


def test_last_only_judges_only_the_newest_window_end(negative_run):
    # The newest 3-hour windows hold only pending predictions: no labelled row, so nothing to judge.
    assert negative_run.status("expect_pass_perf_3h_accuracy_at_least_0_75_last_only") == "pass"


def test_label_coverage_below_the_minimum_fails_per_window(perf, dbt_conn, negative_run):
    name = "expect_fail_perf_daily_label_coverage_at_least_0_95"
    assert negative_run.status(name) == "fail"
    breaching = _breaching(perf, dbt_conn, "label_coverage", "1 day", below=0.95, min_labelled=0)
    assert _failures(negative_run, name) == len(breaching) > 1


# --- bad input: an error naming the macro, the relation and the argument ----------------------------------------------

BUCKETS = "{{{{ dbt_learn.ml_performance_buckets(ref('perf_stream'), {}) }}}}"
TRAILING = "{{{{ dbt_learn.ml_trailing_performance(ref('perf_buckets'), {}) }}}}"
INCREMENTAL = "{{{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key={}) }}}}"
BAD_MODELS = {
    "task": (BUCKETS.format("task='ranking'"), "task must be 'classification' or 'regression'"),
    "score_without_positive": (BUCKETS.format("score_column='probability_true'"), "score_column needs positive_value"),
    "monthly_bucket": (BUCKETS.format("bucket='1 month'"), "bucket must be an interval like '1 hour'"),
    "costs_key": (BUCKETS.format("positive_value=true, costs={'true_pos': 1}"), "unknown costs key 'true_pos'"),
    "costs_value": (BUCKETS.format("positive_value=true, costs={'false_positive': 'a lot'}"),
                    "costs.false_positive must be a number"),
    "slice": (BUCKETS.format("slices=['channel']"), "slices column 'channel' is not a column of"),
    "regression_positive": (BUCKETS.format("task='regression', positive_value=1"),
                            "positive_value applies to classification only"),
    "no_recompute": (INCREMENTAL.format("'bucket_start'") + BUCKETS.format(""), "an incremental model needs recompute"),
    "appending": ("{{ config(materialized='incremental') }}" + BUCKETS.format("recompute='1 day'"),
                  "needs config(materialized='incremental', incremental_strategy='delete+insert', "
                  "unique_key='bucket_start'); got incremental_strategy=None"),
    "sliced_key": (INCREMENTAL.format("['bucket_start', 'segment']")
                   + BUCKETS.format("recompute='1 day', slices=['segment']"), "unique_key=['bucket_start', 'segment']"),
    "trailing_key": (INCREMENTAL.format("'bucket_start'") + TRAILING.format(""), "unique_key='window_end'"),
    "every": (TRAILING.format("every='fortnight'"), "every must be one of minute, hour, day, week, month"),
    "window_twice": (TRAILING.format("windows=['1 day', '1 day']"), "window '1 day' is listed twice"),
    "not_buckets": ("{{ dbt_learn.ml_trailing_performance(ref('perf_stream')) }}",
                    "buckets (an ml_performance_buckets relation) column 'bucket_end' is not a column of"),
}
NAIVE_STREAM = """{{ config(materialized='table') }}
select key, (decided_at at time zone 'UTC') as decided_at, prediction, probability_true, label, label_status, segment
from {{ ref('perf_stream') }}
union all select 'no_time', null, true, 0.5, true, 'labelled', 'web'"""
NAIVE_BUCKETS = INCREMENTAL.format("'bucket_start'") + """
{{ dbt_learn.ml_performance_buckets(ref('perf_tmp_naive_stream'), positive_value=true, score_column='probability_true',
   slices=['segment'], recompute='1 hour',
   costs={'true_positive': 120, 'false_positive': -15.5, 'false_negative': -40}) }}"""


def test_bad_arguments_are_errors_naming_the_macro_and_the_argument(perf):
    files = {f"models/perf_tmp/perf_bad_{case}.sql": sql for case, (sql, _) in BAD_MODELS.items()}
    result = perf.dbt_with(files, "run", "-s", "path:models/perf_tmp", *_as_of(AS_OF))
    for case, (_, expected) in BAD_MODELS.items():
        name = f"perf_bad_{case}"
        assert result.status(name) == "error", name
        message = result.message(name)
        assert "dbt_learn: ml_" in message and ("(perf_stream)" in message or "(perf_buckets)" in message), message
        assert expected in message, message


def test_a_timestamp_without_time_zone_is_read_as_utc_and_null_times_are_dropped(perf, dbt_conn):
    files = {"models/perf_tmp/perf_tmp_naive_stream.sql": NAIVE_STREAM,
             "models/perf_tmp/perf_tmp_naive_buckets.sql": NAIVE_BUCKETS}
    try:
        for _ in range(2):  # a full build, then an incremental run filtering the timestamp column
            result = perf.dbt_with(files, "run", "-s", "path:models/perf_tmp", *_as_of(AS_OF))
            assert result.success, result.output
        assert result.message("perf_tmp_naive_buckets").startswith("INSERT")
        order = "bucket_start, segment nulls first"
        _assert_same_rows(_table(perf, dbt_conn, "perf_tmp_naive_buckets", order),
                          _table(perf, dbt_conn, "perf_buckets", order))
    finally:
        for name in ("perf_tmp_naive_buckets", "perf_tmp_naive_stream"):
            dbt_conn.execute(f'drop table if exists "{perf.schema}".{name}')


BAD_TESTS = {
    "perf_bad_metric": ("ml_trailing_metric_threshold", {"metric": "auc", "min_value": 0.5},
                        "unknown metric 'auc'; the metrics of ml_trailing_performance are: n_predictions"),
    "perf_bad_window": ("ml_trailing_metric_threshold", {"metric": "accuracy", "min_value": 0.5, "window": "2 hours"},
                        "window '2 hours' is not a window of"),
    "perf_bad_bounds": ("ml_trailing_metric_threshold", {"metric": "accuracy"}, "give min_value, max_value or both"),
    "perf_bad_coverage": ("ml_label_coverage", {"min_coverage": 95}, "min_coverage must be a number from 0 to 1"),
}


def test_misconfigured_tests_are_errors_naming_the_test_and_the_model(perf):
    lines = ["version: 2", "models:", "  - name: perf_regression_trailing", "    data_tests:"]
    for name, (test, arguments, _) in BAD_TESTS.items():
        lines.append(f"      - dbt_learn.{test}: {{name: {name}, arguments: {json.dumps(arguments)}}}")
    result = perf.dbt_with({"models/perf_tmp/perf_bad_tests.yml": "\n".join(lines) + "\n"},
                           "test", "-s", *BAD_TESTS, *_as_of(AS_OF))
    for name, (test, _, expected) in BAD_TESTS.items():
        assert result.status(name) == "error", name
        message = result.message(name)
        assert f"test {test} on model 'perf_regression_trailing'" in message and expected in message, message


EMPTY_AND_STARTED = {
    "models/perf_tmp/perf_tmp_empty_stream.sql":
        "{{ config(materialized='table') }} select * from {{ ref('perf_stream') }} where false",
    "models/perf_tmp/perf_tmp_empty_buckets.sql":
        "{{ config(materialized='table') }} " + BUCKETS.replace("perf_stream", "perf_tmp_empty_stream").format(
            "positive_value=true, score_column='probability_true'"),
    "models/perf_tmp/perf_tmp_empty_trailing.sql":
        "{{ config(materialized='table') }} " + TRAILING.replace("perf_buckets", "perf_tmp_empty_buckets").format(
            "windows=['3 hours']"),
    "models/perf_tmp/perf_tmp_started.sql":
        "{{ config(materialized='table') }} " + TRAILING.format("windows=['3 hours'], start='2024-03-02 05:30+00'"),
}


def test_start_sets_the_first_window_end_and_no_rows_at_all_give_one_zero_row(perf, dbt_conn):
    try:
        result = perf.dbt_with(EMPTY_AND_STARTED, "run", "-s", "path:models/perf_tmp", *_as_of(AS_OF))
        assert result.success, result.output
        empty = _table(perf, dbt_conn, "perf_tmp_empty_trailing")
        assert [str(t) for t in empty.window_end] == ["2024-03-03 00:00:00+00:00"]  # the spine still reaches as_of
        assert (empty.n_predictions == 0).all() and empty.accuracy.isna().all() and empty.roc_auc.isna().all()
        started = _table(perf, dbt_conn, "perf_tmp_started")
        assert str(started.window_end.min()) == "2024-03-02 06:00:00+00:00"  # 05:30 rounded up to the hour
        overall = _frame(dbt_conn, f"""select * from "{perf.schema}".perf_trailing_overall
            where window_size = interval '3 hours' and window_end >= '2024-03-02 06:00+00' order by window_end""")
        _assert_same_rows(started[overall.columns].reset_index(drop=True), overall)
    finally:
        for name in ("perf_tmp_started", "perf_tmp_empty_trailing", "perf_tmp_empty_buckets", "perf_tmp_empty_stream"):
            dbt_conn.execute(f'drop table if exists "{perf.schema}".{name}')
