"""The diagnostics stored with a version (dbt_learn._diagnostics) equal scikit-learn's own on the same holdout, stay
bounded and JSON-safe; and the report draws a page from them, or says plainly when a version has none."""

import json
import re

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_auc_score, roc_curve

from dbt_learn import _diagnostics


def _binary():
    X, y = load_breast_cancer(return_X_y=True)
    labels = np.array(["benign", "malignant"])[1 - y]  # sklearn's 0 is malignant
    model = LogisticRegression(max_iter=10000).fit(X[::2], labels[::2])
    return model, X[1::2], labels[1::2]


def test_binary_classifier_diagnostics_equal_scikit_learn():
    model, X, y = _binary()
    got = _diagnostics.compute("classification", model, X, y)
    proba, truth = model.predict_proba(X)[:, 1], y == model.classes_[1]
    assert got["classes"] == ["benign", "malignant"] and got["rows"] == len(y)
    assert got["confusion_matrix"] == confusion_matrix(y, model.predict(X), labels=model.classes_).tolist()
    fpr, tpr, _ = roc_curve(truth, proba)
    assert len(fpr) <= _diagnostics.MAX_CURVE_POINTS  # small enough to be stored whole
    (roc,) = got["roc"]
    assert roc["class"] == "malignant"
    np.testing.assert_allclose(roc["fpr"], fpr)
    np.testing.assert_allclose(roc["tpr"], tpr)
    assert roc["auc"] == pytest.approx(roc_auc_score(truth, proba))
    precision, recall, _ = precision_recall_curve(truth, proba)
    kept = _diagnostics.thin(len(precision))
    np.testing.assert_allclose(got["precision_recall"][0]["precision"], precision[kept])
    np.testing.assert_allclose(got["precision_recall"][0]["recall"], recall[kept])
    fraction, mean_predicted = calibration_curve(truth, proba, n_bins=10)
    np.testing.assert_allclose(got["calibration"][0]["fraction_positive"], fraction)
    np.testing.assert_allclose(got["calibration"][0]["mean_predicted"], mean_predicted)
    assert sum(got["calibration"][0]["bin_counts"]) == len(y)


def test_class_indexes_are_named_and_each_class_gets_its_one_vs_rest_curves():
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=10000).fit(X, y)  # SQL models fit on class indexes like these
    got = _diagnostics.compute("classification", model, X, y, class_names=["setosa", "versicolor", "virginica"])
    assert got["classes"] == ["setosa", "versicolor", "virginica"]
    assert [c["class"] for c in got["roc"]] == got["classes"]
    assert np.trace(np.array(got["confusion_matrix"])) == (model.predict(X) == y).sum()
    # A class missing from the holdout has no curve (it would be undefined), the others still do.
    rest = y != 0
    partial = _diagnostics.compute("classification", model, X[rest], y[rest], class_names=got["classes"])
    assert [c["class"] for c in partial["roc"]] == ["versicolor", "virginica"]


def test_regression_diagnostics_are_a_sample_and_the_residual_histogram():
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    got = _diagnostics.compute("regression", model, X, y)
    predicted = model.predict(X)
    assert len(y) < _diagnostics.MAX_SAMPLE_POINTS
    np.testing.assert_allclose(got["actual"], y)
    np.testing.assert_allclose(got["predicted"], predicted)
    counts, edges = np.histogram(y - predicted, bins=_diagnostics.RESIDUAL_BINS)
    assert got["residual_histogram"]["counts"] == counts.tolist()
    np.testing.assert_allclose(got["residual_histogram"]["edges"], edges)


def test_a_large_holdout_gives_bounded_json_safe_diagnostics():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50_000, 3))
    y = (X[:, 0] + rng.normal(size=len(X)) > 0).astype(int)
    classifier = _diagnostics.compute("classification", LogisticRegression().fit(X, y), X, y)
    assert all(len(c["fpr"]) <= _diagnostics.MAX_CURVE_POINTS for c in classifier["roc"])
    assert classifier["roc"][0]["fpr"][0] == 0 and classifier["roc"][0]["fpr"][-1] == 1  # the ends are kept
    target = X @ [1.0, 2.0, 3.0]
    regression = _diagnostics.compute("regression", LinearRegression().fit(X, target), X, target)
    assert len(regression["actual"]) == _diagnostics.MAX_SAMPLE_POINTS
    for diagnostics in (classifier, regression):
        assert len(json.dumps(diagnostics, allow_nan=False)) < 64_000


def test_non_finite_numbers_become_null():
    assert _diagnostics.json_safe({"a": [np.float64("nan"), np.inf, np.int64(3), 0.5]}) == {"a": [None, None, 3, 0.5]}


def test_no_diagnostics_without_target_rows_or_for_other_tasks():
    model, X, y = _binary()
    assert _diagnostics.compute("classification", model, X[:0], y[:0]) is None
    assert _diagnostics.compute("clustering", model, X, y) is None


def _version(number, **extra):
    return {"model_schema": "s", "model_name": "m", "version": number, "task": "classification",
            "algorithm": "sklearn.linear_model.LogisticRegression", "language": "sql", "trained_at": "2026-01-01",
            "training_reason": "first version", "training_rows": 100, "holdout_rows": 20, "serving": False,
            "metrics": {"accuracy": 0.8 + number / 100}, "feature_importances": None, "diagnostics": None, **extra}


def test_a_version_without_diagnostics_says_so_and_still_shows_the_rest(tmp_path):
    pytest.importorskip("matplotlib")
    from dbt_learn.report import _pages

    model, X, y = _binary()
    importances = {"method": "coefficients", "columns": [{"column": "a", "importance": 0.7},
                                                         {"column": "b", "importance": 0.2}]}
    versions = [_version(1, feature_importances=importances),
                _version(2, serving=True, diagnostics=_diagnostics.compute("classification", model, X, y))]
    paths = _pages.write_model(tmp_path, versions)
    old, new = ((tmp_path / p).read_text() for p in paths)
    assert "trained before dbt_learn recorded diagnostics" in old
    old_images = re.findall(r'<img src="([^"]+)"', old)
    assert old_images == ["v1_importances.png", "v1_history.png"]
    new_images = re.findall(r'<img src="([^"]+)"', new)
    assert {"v2_confusion_matrix.png", "v2_roc.png", "v2_precision_recall.png", "v2_calibration.png",
            "v2_history.png"} <= set(new_images)
    assert "recorded diagnostics" not in new
    for name in old_images + new_images:
        assert (tmp_path / "s" / "m" / name).stat().st_size > 1000


def test_the_runtime_and_the_report_modules_load_without_matplotlib():
    # The server venv has no matplotlib: the runtime must not need it, and the report draws only when asked.
    import subprocess
    import sys

    code = ("import sys, dbt_learn._in_database, dbt_learn._diagnostics, dbt_learn.report.__main__, "
            "dbt_learn.report._pages\nprint('matplotlib' in sys.modules, 'sklearn' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["False", "False"]


def _node(name, materialized="table", macros=(), nodes=()):
    return {"name": name, "alias": name, "schema": "s", "config": {"materialized": materialized},
            "depends_on": {"macros": list(macros), "nodes": [f"model.p.{n}" for n in nodes]}}


def test_a_monitoring_model_monitors_the_nearest_trained_models_upstream():
    from dbt_learn.report import _monitoring

    nodes = [_node("base"), _node("old_model", "ml_train", nodes=["base"]),
             _node("model", "ml_train", nodes=["old_model"]), _node("scores", nodes=["model", "base"]),
             _node("buckets", nodes=["scores"]),
             _node("perf", macros=["macro.dbt_learn.ml_trailing_performance"], nodes=["buckets"]),
             _node("drift", macros=["macro.dbt_learn.ml_feature_drift"], nodes=["model", "base"]),
             _node("other", macros=["macro.dbt_utils.star"], nodes=["model"])]
    watched = _monitoring.monitors({"nodes": {f"model.p.{n['name']}": n for n in nodes}})
    # The trailing performance reaches the model through its scores; the older model upstream of it is not watched.
    assert watched == {("s", "model"): {"performance": ("s", "perf"), "feature_drift": ("s", "drift")}}
    assert _monitoring.monitors(None) == {}


def test_the_monitoring_plot_draws_only_the_panels_it_has_data_for(tmp_path):
    pytest.importorskip("matplotlib")
    import datetime

    from dbt_learn.report import _monitoring

    day = datetime.datetime(2026, 1, 1)
    drift = [{"bucket_start": day + datetime.timedelta(days=i), "feature": f, "psi": 0.05 * i}
             for i in range(4) for f in ("a", "b")]
    perf = [{"window_end": day + datetime.timedelta(days=i), "accuracy": 0.9, "n_predictions": 10, "n_labelled": 5}
            for i in range(4)]
    drift_only = _monitoring.plot([], drift, [], "t", tmp_path / "drift.png")
    everything = _monitoring.plot(perf, drift, [], "t", tmp_path / "all.png")
    assert drift_only[0] == everything[0] and drift_only[1] < everything[1] / 2
