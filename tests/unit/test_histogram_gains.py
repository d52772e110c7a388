"""Histogram gradient boosting's global importances (explanations._histogram_boosting_gains) against the split
gains recomputed from the training rows' gradients routed through the fitted trees."""

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from dbt_learn import _catalog
from dbt_learn.explanations import global_importances


def _rows(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    X[rng.random(n) < 0.05, 2] = np.nan  # NaN rows follow each split's missing_go_to_left
    signal = 3 * X[:, 0] + np.sin(2 * X[:, 1]) + 0.5 * np.nan_to_num(X[:, 2]) + 0.1 * rng.normal(size=n)
    return X, signal


def _goes_left(node, column):
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(column), bool(node["missing_go_to_left"]), column <= node["num_threshold"])


def _tree_gains(nodes, X, gradients, hessians, n_features):
    """Each split's loss reduction from the gradient and hessian sums of the training rows reaching it, routed by
    the split thresholds (scikit-learn's _split_gain with l2_regularization 0: the root's current loss is taken as
    0 since its value is 0, every other node's is -G^2/H)."""
    gains = np.zeros(n_features)
    pending = [(0, np.arange(len(X)))]
    while pending:
        index, rows = pending.pop()
        node = nodes[index]
        if node["is_leaf"]:
            continue
        left = _goes_left(node, X[rows, node["feature_idx"]])
        parts = (rows[left], rows[~left])
        G, H = gradients[rows].sum(), hessians[rows].sum()
        current = 0.0 if index == 0 else -G * G / H
        gain = current + sum(gradients[part].sum() ** 2 / hessians[part].sum() for part in parts)
        gains[node["feature_idx"]] += gain
        pending += [(int(node["left"]), parts[0]), (int(node["right"]), parts[1])]
    return gains


def _shares(values):
    return values / values.sum()


def test_histogram_boosting_regressor_importances_are_split_gains_recomputed_from_the_rows():
    X, y = _rows()
    fitted = HistGradientBoostingRegressor(max_iter=15, early_stopping=False, learning_rate=0.3,
                                           random_state=0).fit(X, y)
    raw = [np.full(len(X), fitted._baseline_prediction.ravel()[0]), *fitted.staged_predict(X)]
    expected = np.zeros(X.shape[1])
    for (predictor,), before in zip(fitted._predictors, raw):
        gradients = before - y  # half squared error: gradient raw - y, hessian 1
        expected += _tree_gains(predictor.nodes, X, gradients, np.ones(len(X)), X.shape[1])
    result = global_importances("m", fitted, X, y, "regression", 0)
    assert result["method"] == "gain" and "source" not in result
    np.testing.assert_allclose([f["importance"] for f in result["features"]], _shares(expected), rtol=1e-7)
    assert np.argmax(expected) == 0 and expected[3] < expected[0] / 100  # x3 and x4 are noise


def test_histogram_boosting_binary_classifier_importances_are_split_gains_recomputed_from_the_rows():
    X, signal = _rows(seed=1)
    y = (signal > 0).astype(int)
    fitted = HistGradientBoostingClassifier(max_iter=10, early_stopping=False, random_state=0).fit(X, y)
    raw = [np.full(len(X), fitted._baseline_prediction.ravel()[0]), *fitted.staged_decision_function(X)]
    expected = np.zeros(X.shape[1])
    for (predictor,), before in zip(fitted._predictors, raw):
        p = 1 / (1 + np.exp(-before))  # half binomial loss: gradient p - y, hessian p (1 - p)
        expected += _tree_gains(predictor.nodes, X, p - y, p * (1 - p), X.shape[1])
    result = global_importances("m", fitted, X, y, "classification", 0)
    assert result["method"] == "gain"
    np.testing.assert_allclose([f["importance"] for f in result["features"]], _shares(expected), rtol=1e-6,
                               atol=1e-9)  # scikit-learn sums float32 gradients


def test_multiclass_histogram_boosting_sums_the_gains_of_every_class_tree():
    X, signal = _rows(seed=2)
    y = np.digitize(signal, [-1.5, 1.5])
    fitted = HistGradientBoostingClassifier(max_iter=5, early_stopping=False, random_state=0).fit(X, y)
    assert len(fitted._predictors[0]) == 3
    expected = np.zeros(X.shape[1])
    for iteration in fitted._predictors:
        for predictor in iteration:
            for node in predictor.nodes:  # plain loop over the node records, not the vectorised sum
                if not node["is_leaf"]:
                    expected[node["feature_idx"]] += node["gain"]
    result = global_importances("m", fitted, X, y, "classification", 0)
    np.testing.assert_allclose([f["importance"] for f in result["features"]], _shares(expected), rtol=1e-12)


def test_histogram_boosting_in_a_pipeline_names_its_features_and_sums_columns():
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    X, y = _rows(seed=3)
    fitted = Pipeline([("preprocess", FunctionTransformer(feature_names_out="one-to-one")),
                       ("model", HistGradientBoostingRegressor(max_iter=5, random_state=0))]).fit(X, y)
    names = [f"c{i}" for i in range(5)]
    result = global_importances("m", fitted, X, y, "regression", 0, feature_names=names)
    assert [f["feature"] for f in result["features"]] == names
    assert [c["column"] for c in result["columns"]] == names
    assert sum(c["importance"] for c in result["columns"]) == pytest.approx(1.0)


def test_histogram_boosting_gains_are_none_when_its_trees_are_not_where_expected():
    from dbt_learn.explanations import _histogram_boosting_gains

    X, y = _rows(seed=4)
    fitted = HistGradientBoostingRegressor(max_iter=5, random_state=0).fit(X, y)
    assert _histogram_boosting_gains(fitted, 5) is not None
    fitted._predictors = [[object()]]  # a future scikit-learn keeping its trees elsewhere: permutation importance
    assert _histogram_boosting_gains(fitted, 5) is None
    del fitted._predictors
    assert _histogram_boosting_gains(fitted, 5) is None
    assert _histogram_boosting_gains(HistGradientBoostingRegressor(), 5) is None  # not fitted


def test_catalog_counts_histogram_boosting_as_having_importances():
    assert _catalog.has_importances(HistGradientBoostingRegressor)
    assert _catalog.has_importances(HistGradientBoostingClassifier)


