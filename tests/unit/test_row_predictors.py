"""The row-level fast paths (_row_predictors, _row_trees) give what the estimator itself gives - values and
probabilities to 1e-12, classes exactly - for the Pipelines the runtime builds; anything they do not cover, or get
wrong, is refused so the generic path runs; and predict_row with a resolved serving version runs no query."""

import math
import warnings

import numpy as np
import pytest

from dbt_learn import _row_predictors, _scoring_entry, preprocessing, registry
from dbt_learn.errors import ScoringError
from dbt_learn.estimators import build_estimator

N_FEATURES = 6
FEATURES = [{"name": f"f{i}", "kind": "numeric"} for i in range(N_FEATURES)]


def _data(seed=0, n_rows=1500):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, N_FEATURES)) * [1, 10, 0.1, 1, 100, 1]
    X[rng.random(X.shape) < 0.08] = np.nan
    signal = np.nan_to_num(X) @ np.array([1.5, -0.2, 4.0, 0.0, 0.01, 1.0]) + rng.normal(scale=0.5, size=n_rows)
    return X, signal


def _fitted(algorithm, params, target, preprocess="auto"):
    """The estimator as the runtime stores it: the automatic preprocessing's Pipeline around the algorithm."""
    X, signal = _data()
    y = {"value": signal, "positive": np.exp(signal / 10), "binary": (signal > 0).astype(int),
         "three": np.digitize(signal, np.quantile(signal, [1 / 3, 2 / 3]))}[target]
    X = X if preprocess == "auto" else np.nan_to_num(X)
    estimator = preprocessing.build("m", build_estimator("m", algorithm, params, random_state=0), FEATURES,
                                    preprocessing.options("m", preprocess))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X, y)
    return estimator


COVERED = [
    ("linear_regression", {}, "value"),
    ("ridge", {"alpha": 3.0}, "value"),
    ("lasso", {"alpha": 0.01}, "value"),
    ("logistic_regression", {"max_iter": 500}, "binary"),
    ("logistic_regression", {"max_iter": 500}, "three"),
    ("hist_gradient_boosting_regressor", {"max_iter": 30}, "value"),
    ("hist_gradient_boosting_regressor", {"max_iter": 30, "loss": "poisson"}, "positive"),
    ("hist_gradient_boosting_classifier", {"max_iter": 30}, "binary"),
    ("hist_gradient_boosting_classifier", {"max_iter": 20}, "three"),
]


def _rows(X):
    return [[float(v) for v in x] for x in X]


@pytest.mark.parametrize("algorithm, params, target", COVERED, ids=[f"{a}-{t}-{len(p)}" for a, p, t in COVERED])
def test_fast_path_equals_the_estimators_own_predict(algorithm, params, target):
    estimator = _fitted(algorithm, params, target)
    task = "regression" if target in ("value", "positive") else "classification"
    predictor = _row_predictors.build(estimator, task, N_FEATURES)
    assert predictor is not None, "this estimator should have a fast path"
    X, _ = _data(seed=1, n_rows=400)  # new rows, NaN included
    if not predictor.nan_ok:
        X = np.nan_to_num(X)
    rows = _rows(X)
    assert all(predictor.takes(row) for row in rows)
    if task == "regression":
        expected = estimator.predict(X)
        got = np.array([predictor.value(row) for row in rows])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
        return
    expected_index = np.searchsorted(estimator.classes_, estimator.predict(X))
    assert [predictor.class_index(row) for row in rows] == expected_index.tolist()
    got = np.array([predictor.proba(row) for row in rows])
    np.testing.assert_allclose(got, estimator.predict_proba(X), rtol=1e-12, atol=1e-12)


def _hand_made():
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return [make_pipeline(SimpleImputer(strategy="median"), StandardScaler(with_mean=False), Ridge()),
            make_pipeline(SimpleImputer(add_indicator=True), StandardScaler(with_std=False), LinearRegression()),
            make_pipeline(SimpleImputer(strategy="constant", fill_value=-1.0), LogisticRegression(C=0.3))]


@pytest.mark.parametrize("index", range(3))
def test_hand_made_pipelines_of_the_covered_steps_have_a_fast_path_too(index):
    estimator = _hand_made()[index]
    X, signal = _data()
    classifier = index == 2
    estimator.fit(X, (signal > 0).astype(int) if classifier else signal)
    predictor = _row_predictors.build(estimator, "classification" if classifier else "regression", N_FEATURES)
    assert predictor is not None and predictor.nan_ok
    X_new = _data(seed=4, n_rows=200)[0]
    got = [predictor.proba(row)[1] if classifier else predictor.value(row) for row in _rows(X_new)]
    expected = estimator.predict_proba(X_new)[:, 1] if classifier else estimator.predict(X_new)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_a_linear_pipeline_imputes_and_adds_the_missing_indicators_before_scaling():
    estimator = _fitted("linear_regression", {}, "value")
    assert [name for name, _ in estimator.steps] == ["impute", "scale", "model"]
    assert len(estimator[0].indicator_.features_) > 0  # NULLs in training: indicator columns exist
    predictor = _row_predictors.build(estimator, "regression", N_FEATURES)
    row = [math.nan] * N_FEATURES
    assert predictor.value(row) == pytest.approx(estimator.predict(np.full((1, N_FEATURES), np.nan))[0], abs=1e-12)


def test_the_check_on_probe_rows_rejects_a_fast_path_that_disagrees():
    estimator = _fitted("linear_regression", {}, "value")
    predictor = _row_predictors.build(estimator, "regression", N_FEATURES)
    X = _row_predictors.probe_rows(estimator[-1], N_FEATURES, predictor.nan_ok)
    assert _row_predictors._agrees(predictor, estimator, "regression", X)
    predictor.final.coef[0] += 1e-9
    assert not _row_predictors._agrees(predictor, estimator, "regression", X)

    trees = _fitted("hist_gradient_boosting_classifier", {"max_iter": 10}, "binary")
    predictor = _row_predictors.build(trees, "classification", N_FEATURES)
    X = _row_predictors.probe_rows(trees[-1], N_FEATURES, True)
    raw = predictor.final._raw
    predictor.final._raw = lambda row: [value + 1e-6 for value in raw(row)]
    assert not _row_predictors._agrees(predictor, trees, "classification", X)


@pytest.mark.parametrize("target", ["value", "three"])
def test_compiled_trees_walk_exactly_as_the_node_lists_and_large_ensembles_walk_the_lists(monkeypatch, target):
    from dbt_learn import _row_trees

    algorithm = "hist_gradient_boosting_" + ("regressor" if target == "value" else "classifier")
    estimator = _fitted(algorithm, {"max_iter": 15}, target)
    compiled = _row_predictors.build(estimator, "regression" if target == "value" else "classification", N_FEATURES)
    assert compiled.final._raw != compiled.final._walk
    rows = _rows(_data(seed=3, n_rows=300)[0])
    assert [compiled.final._raw(row) for row in rows] == [compiled.final._walk(row) for row in rows]
    monkeypatch.setattr(_row_trees, "_MAX_COMPILED_NODES", 10)
    walked = _row_predictors.build(estimator, "regression" if target == "value" else "classification", N_FEATURES)
    assert walked is not None and walked.final._raw == walked.final._walk


@pytest.mark.parametrize("algorithm, params, target", [
    ("k_neighbors_regressor", {}, "value"),
    ("random_forest_classifier", {"n_estimators": 5}, "binary"),
    ("poisson_regressor", {}, "positive"),  # a linear_model whose predict is exp(X @ coef_ + intercept_)
])
def test_estimators_without_a_fast_path_are_left_to_the_generic_path(algorithm, params, target):
    estimator = _fitted(algorithm, params, target)
    task = "regression" if target in ("value", "positive") else "classification"
    assert _row_predictors.build(estimator, task, N_FEATURES) is None


def test_rows_with_an_infinity_or_a_null_the_model_cannot_take_go_to_the_generic_path():
    estimator = _fitted("linear_regression", {}, "value", preprocess="off")
    predictor = _row_predictors.build(estimator, "regression", N_FEATURES)
    assert predictor is not None and not predictor.nan_ok
    assert predictor.takes([1.0] * N_FEATURES)
    assert not predictor.takes([math.nan] + [1.0] * (N_FEATURES - 1))
    assert not predictor.takes([math.inf] + [1.0] * (N_FEATURES - 1))
    trees = _row_predictors.build(_fitted("hist_gradient_boosting_regressor", {"max_iter": 5}, "value"),
                                  "regression", N_FEATURES)
    assert trees.takes([math.nan] * N_FEATURES) and not trees.takes([-math.inf] * N_FEATURES)


class NoQueries:
    """A plpy that fails on any query: the resolved serving version must be enough."""

    def execute(self, *args):
        raise AssertionError("no registry query expected")

    prepare = execute

    def error(self, message):
        raise RuntimeError(message)


@pytest.fixture
def cached_model(monkeypatch):
    estimator = _fitted("logistic_regression", {"max_iter": 500}, "three")
    meta = {"task": "classification", "features": FEATURES, "classes": ["low", "mid", "high"], "threshold": None,
            "artifact_sha256": "abc", "preprocessing": {"mode": "auto"}}
    monkeypatch.setitem(registry._estimators, ("s", "m", 3), ("abc", estimator, meta))
    monkeypatch.setattr(_scoring_entry, "_row_threads_limited", True)
    return estimator


def test_predict_row_with_the_resolved_serving_version_runs_no_query(cached_model):
    X, _ = _data(seed=2, n_rows=5)
    for x in X:
        row = [None if np.isnan(v) else float(v) for v in x]
        index = _scoring_entry.predict_row(NoQueries(), "s", "m", row, "class_index", (True, 3, "abc"))
        proba = _scoring_entry.predict_row(NoQueries(), "s", "m", row, "probabilities", (True, 3, "abc"))
        expected = cached_model.predict_proba(x[None, :])[0]
        assert index == [float(np.searchsorted(cached_model.classes_, cached_model.predict(x[None, :]))[0])]
        np.testing.assert_allclose(proba, expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(RuntimeError, match="is a classifier: use dbt_learn.predict_class"):
        _scoring_entry.predict_row(NoQueries(), "s", "m", [1.0] * N_FEATURES, "value", (True, 3, "abc"))
    with pytest.raises(RuntimeError, match="got 2 feature values, the model takes 6"):
        _scoring_entry.predict_row(NoQueries(), "s", "m", [1.0, 2.0], "class_index", (True, 3, "abc"))


@pytest.mark.parametrize("serving", [(True, 3, "other sha"), (False, 3, "abc"), (None, 3, "abc"), (True, 4, "abc")],
                         ids=["sha changed", "privilege refused", "no schema", "another version"])
def test_anything_but_a_cached_allowed_version_goes_through_load_version(cached_model, monkeypatch, serving):
    calls = []
    monkeypatch.setattr(registry, "load_version", lambda plpy, schema, name, version: calls.append(version) or (
        cached_model, registry._estimators[("s", "m", 3)][2]))
    registry.serving_model(NoQueries(), "s", "m", serving)
    assert calls == [serving[1]]


class NoIdentityError(NoQueries):
    """Answers only the schema-identity query the no-version error path asks (a dropped and recreated schema)."""

    def prepare(self, sql, types):
        return sql

    def execute(self, plan, args=()):
        if "schema_identity_error" in plan:
            return [{"message": None}]
        raise AssertionError(plan)


def test_no_trained_version_is_a_scoring_error(cached_model, monkeypatch):
    monkeypatch.setattr(registry, "_plans", {})
    with pytest.raises(ScoringError, match="has no trained version"):
        registry.serving_model(NoIdentityError(), "s", "m", (True, None, None))


def test_a_version_the_registry_cache_evicts_is_freed_with_its_row_predictor(monkeypatch):
    """A pooled backend scores version after version: once the registry's cache drops a version, nothing else may
    keep its estimator alive (the fast path's predictor once did, 5 MiB a version in the load benchmark)."""
    import gc
    import weakref

    monkeypatch.setattr(registry, "_estimators", type(registry._estimators)())
    monkeypatch.setattr(_scoring_entry, "_row_threads_limited", True)
    freed = []
    for version in range(1, registry._VERSIONS_PER_MODEL + 3):
        estimator = _fitted("linear_regression", {}, "value")
        meta = {"task": "regression", "features": FEATURES, "classes": None, "threshold": None,
                "artifact_sha256": f"sha{version}", "preprocessing": {"mode": "auto"}}
        registry._remember(("s", "m", version), (f"sha{version}", estimator, meta))
        _scoring_entry.predict_row(NoQueries(), "s", "m", [1.0] * N_FEATURES, "value", (True, version, f"sha{version}"))
        freed.append(weakref.ref(estimator))
        del estimator, meta
    gc.collect()
    alive = [version for version, ref in enumerate(freed, 1) if ref() is not None]
    assert alive == list(range(3, registry._VERSIONS_PER_MODEL + 3))
