"""The model report (python -m dbt_learn.report): the diagnostics a version stores equal scikit-learn's on the same
holdout, reproduced offline; the CLI writes an index and a page per version with its plots; and the page, rendered in
headless Chromium, shows those plots."""

import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor

from dbt_learn.evaluation import split_rows, take
from dbt_learn.report import _monitoring
from dbt_learn.report._browser import chromium, screenshot

from .conftest import in_training_order, load_table, query
from .harness import REPO

CLASSIFIER, REGRESSOR = "report_classifier", "report_regressor"
MONITORED = "drift_regressor"  # integration_tests monitors it (ml_feature_drift, ml_prediction_drift)
MODEL = """{{{{ config(materialized='ml_train', meta={{'target': 'target', 'algorithm': '{algorithm}',
                                               'params': {params!r}, 'id_columns': ['id']}}) }}}}
select * from "{schema}"."{table}"
"""


@pytest.fixture(scope="module")
def trained(project, dbt_conn):
    """A classifier, and a regressor trained twice (max_depth 3, then 5) so its history has two points."""
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.columns = [c.replace(" ", "_") for c in cancer.columns]
    cancer["target"] = cancer["target"].map({0: "malignant", 1: "benign"}).astype(object)
    load_table(dbt_conn, project.schema, "report_cancer_rows", cancer)
    diabetes = load_diabetes(as_frame=True).frame
    load_table(dbt_conn, project.schema, "report_diabetes_rows", diabetes)
    project.write(f"models/report/{CLASSIFIER}.sql", MODEL.format(
        algorithm="logistic_regression", params={"C": 0.5, "max_iter": 10000}, schema=project.schema,
        table="report_cancer_rows"))
    for depth in (3, 5):
        project.write(f"models/report/{REGRESSOR}.sql", MODEL.format(
            algorithm="decision_tree_regressor", params={"max_depth": depth}, schema=project.schema,
            table="report_diabetes_rows"))
        result = project.dbt("run", "-s", CLASSIFIER, REGRESSOR)
        assert result.success, result.output
    return {"cancer": cancer, "diabetes": diabetes}


def _stored(dbt_conn, schema, name, version):
    return query(dbt_conn, "select diagnostics, metrics from dbt_learn.model_versions where model_schema = %s "
                           "and model_name = %s and version = %s", [schema, name, version])[0]


def _offline_holdout(frame, offline):
    """The runtime's holdout, reproduced: the rows in its fit order, split_rows with the package defaults (20%,
    random_state 0), the estimator fitted on the other rows; returns its holdout rows, their target, the fit."""
    features = [c for c in frame.columns if c != "target"]
    X, y, classes = in_training_order(frame[features].to_numpy(dtype=np.float64), frame["target"].to_numpy())
    task = "classification" if classes else "regression"
    fit_rows, holdout = split_rows("offline", y, task, len(X), holdout_size=0.2, random_state=0)
    y = np.asarray(classes, dtype=object)[y] if classes else y
    offline.fit(take(X, fit_rows), y[fit_rows])
    return take(X, holdout), y[holdout], offline


def test_classifier_diagnostics_equal_scikit_learn_on_the_same_holdout(project, dbt_conn, trained):
    diagnostics, metrics = _stored(dbt_conn, project.schema, CLASSIFIER, 1)
    offline = make_pipeline(SimpleImputer(strategy="mean", add_indicator=True, keep_empty_features=True),
                            StandardScaler(), LogisticRegression(C=0.5, max_iter=10000, random_state=0))
    X, y, offline = _offline_holdout(trained["cancer"], offline)
    assert diagnostics["source"] == "holdout" and diagnostics["rows"] == len(y)
    assert diagnostics["classes"] == ["benign", "malignant"]
    assert diagnostics["confusion_matrix"] == confusion_matrix(y, offline.predict(X), labels=offline.classes_).tolist()
    assert diagnostics["confusion_matrix"] == metrics["confusion_matrix"]
    truth, score = y == "malignant", offline.predict_proba(X)[:, 1]
    (roc,), (pr,), (calibration,) = diagnostics["roc"], diagnostics["precision_recall"], diagnostics["calibration"]
    fpr, tpr, _ = roc_curve(truth, score)
    np.testing.assert_allclose(roc["fpr"], fpr, atol=1e-9)
    np.testing.assert_allclose(roc["tpr"], tpr, atol=1e-9)
    assert roc["auc"] == pytest.approx(metrics["roc_auc"], abs=1e-9)
    precision, recall, _ = precision_recall_curve(truth, score)
    np.testing.assert_allclose(pr["precision"], precision, atol=1e-9)
    np.testing.assert_allclose(pr["recall"], recall, atol=1e-9)
    fraction, mean_predicted = calibration_curve(truth, score, n_bins=10)
    np.testing.assert_allclose(calibration["fraction_positive"], fraction, atol=1e-9)
    np.testing.assert_allclose(calibration["mean_predicted"], mean_predicted, atol=1e-9)


def test_regressor_diagnostics_equal_scikit_learn_on_the_same_holdout(project, dbt_conn, trained):
    diagnostics, metrics = _stored(dbt_conn, project.schema, REGRESSOR, 2)
    X, y, offline = _offline_holdout(trained["diabetes"], DecisionTreeRegressor(max_depth=5, random_state=0))
    predicted = offline.predict(X)
    assert diagnostics["rows"] == len(y) <= 500  # small enough to be sampled whole
    np.testing.assert_allclose(diagnostics["actual"], y, atol=1e-9)
    np.testing.assert_allclose(diagnostics["predicted"], predicted, atol=1e-9)
    counts, edges = np.histogram(y - predicted, bins=30)
    assert diagnostics["residual_histogram"]["counts"] == counts.tolist()
    np.testing.assert_allclose(diagnostics["residual_histogram"]["edges"], edges, atol=1e-9)
    assert metrics["r2"] == pytest.approx(1 - ((y - predicted) ** 2).sum() / ((y - y.mean()) ** 2).sum())


# Kept after the run (pytest's own tmp dirs rotate), so the rendered report and its screenshot can be looked at.
ARTIFACTS = REPO / ".dbt_learn_local" / "test-artifacts" / "model_report"


@pytest.fixture(scope="module")
def report(project, trained):
    out = ARTIFACTS
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "dbt_learn.report", "--schema", project.schema, "--model", CLASSIFIER,
               "--model", REGRESSOR, "--model", MONITORED, "--manifest", str(project.root / "target/manifest.json"),
               "--out", str(out)]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    pages = re.search(r"(\d+) version page\(s\)", completed.stdout)
    assert pages and int(pages.group(1)) >= 4, completed.stdout  # 1 + 2 + the monitored model's
    return out


def _images(page):
    return re.findall(r'<img src="([^"]+)" width="(\d+)" height="(\d+)"', page.read_text())


def test_the_cli_writes_an_index_and_a_page_per_version_with_relative_plots(project, report):
    index = (report / "index.html").read_text()
    folder = report / project.schema
    for name, version in ((CLASSIFIER, 1), (REGRESSOR, 1), (REGRESSOR, 2), (MONITORED, 1)):
        assert f'href="{project.schema}/{name}/v{version}.html"' in index
        page = folder / name / f"v{version}.html"
        images = _images(page)
        assert images, page
        for src, _, _ in images:  # relative links to files next to the page: the folder is self-contained
            assert "/" not in src and (page.parent / src).stat().st_size > 1000
    classifier = {src for src, *_ in _images(folder / CLASSIFIER / "v1.html")}
    assert {"v1_confusion_matrix.png", "v1_roc.png", "v1_precision_recall.png", "v1_calibration.png",
            "v1_importances.png", "v1_history.png"} <= classifier
    regressor = {src for src, *_ in _images(folder / REGRESSOR / "v2.html")}
    assert {"v2_predicted_vs_actual.png", "v2_residuals.png", "v2_history.png"} <= regressor
    assert 'href="v1.html"' in (folder / REGRESSOR / "v2.html").read_text()


def test_monitored_models_get_their_monitoring_plot_from_the_manifest(project, report):
    manifest = json.loads((project.root / "target/manifest.json").read_text())
    watched = _monitoring.monitors(manifest)[(project.schema, MONITORED)]
    assert watched["feature_drift"][0] == project.schema and watched["prediction_drift"][0] == project.schema
    assert (project.schema, CLASSIFIER) not in _monitoring.monitors(manifest)
    assert "monitoring.png" in {src for src, *_ in _images(report / project.schema / MONITORED / "v1.html")}
    assert "monitoring.png" not in (report / project.schema / CLASSIFIER / "v1.html").read_text()


def _find(shot, image, tolerance=10):
    """Where ``image`` (h x w x 3) appears in ``shot`` pixel for pixel (within ``tolerance`` per channel), or None.
    Candidates come from a few coloured pixels of the image's middle row, then the whole image is compared."""
    height, width = image.shape[:2]
    row = image[height // 2]
    coloured = np.flatnonzero((row < 230).any(axis=1))
    coloured = coloured[::max(1, len(coloured) // 12)]
    if not len(coloured) or shot.shape[0] < height or shot.shape[1] < width:
        return None
    span = shot.shape[1] - width + 1
    candidates = np.ones((shot.shape[0], span), dtype=bool)
    for column in coloured:
        candidates &= (np.abs(shot[:, column:column + span] - row[column]) <= tolerance).all(axis=2)
    for top_of_row, left in zip(*np.nonzero(candidates)):
        top = top_of_row - height // 2
        if top >= 0 and top + height <= shot.shape[0]:
            region = shot[top:top + height, left:left + width]
            if (np.abs(region - image) <= tolerance).all(axis=2).mean() > 0.99:
                return top, left
    return None


def test_the_page_rendered_in_headless_chromium_shows_its_plots(project, report):
    if chromium() is None:
        pytest.skip("chromium is not installed (make setup installs it: Debian package chromium)")
    from matplotlib.image import imread

    page = report / project.schema / CLASSIFIER / "v1.html"
    shot_path = screenshot(page, report / "screenshot.png", width=1200, height=2400)
    print(f"report screenshot: {shot_path}")
    shot = (imread(shot_path)[:, :, :3] * 255).round().astype(np.int16)
    assert shot.shape == (2400, 1200, 3)
    assert (shot < 230).any(axis=2).mean() > 0.05  # not a blank page
    found = {}
    for src, width, height in _images(page):
        image = (imread(page.parent / src)[:, :, :3] * 255).round().astype(np.int16)
        assert image.shape[:2] == (int(height), int(width))  # shown at its own size, so it can be found as it is
        found[src] = _find(shot, image), image.shape[:2]
    # The holdout plots come first on the page and fit in 2400 px: each is in the screenshot, drawn as its PNG.
    for src in ("v1_confusion_matrix.png", "v1_roc.png", "v1_precision_recall.png", "v1_calibration.png"):
        (place, (height, width)) = found[src]
        assert place is not None, (src, found)
        region = shot[place[0]:place[0] + height, place[1]:place[1] + width]
        assert region.std() > 10  # a plot, not a uniform box (a broken image would be one)
