"""The default numeric preprocessing's training levers (preprocessing.fit, StandardScaler in place after the
imputer): bit for bit the copying steps as preprocessing.build made them before, the caller's matrix intact."""

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from dbt_learn import preprocessing
from dbt_learn.estimators import build_estimator
from dbt_learn.scoring import predict_batch
from dbt_learn.training import fit_with_holdout

LINEAR = ["linear_regression", "ridge", "lasso", "elastic_net", "logistic_regression", "sgd_regressor"]


def _with_nulls(n=3000, seed=5):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[0, 5, -3, 100], scale=[1, 2, 0.5, 30], size=(n, 4))
    X[rng.random(n) < 0.1, 1] = np.nan
    X[rng.random(n) < 0.02, 3] = np.nan
    y = np.nan_to_num(X) @ [1.0, -2.0, 0.5, 0.01] + rng.normal(size=n)
    return X, y


def _old(algorithm):
    """The numeric Pipeline as preprocessing.build made it before: every step copying."""
    return Pipeline([("impute", SimpleImputer(strategy="mean", add_indicator=True, keep_empty_features=True)),
                     ("scale", StandardScaler()), ("model", build_estimator("m", algorithm, {}, 0))])


def _new(algorithm, n_features=4):
    features = [{"name": f"x{i}", "kind": "numeric"} for i in range(n_features)]
    return preprocessing.build("m", build_estimator("m", algorithm, {}, 0), features,
                               preprocessing.options("m", "auto"))


def _task(algorithm):
    return "classification" if algorithm == "logistic_regression" else "regression"


def _target(algorithm, y):
    return (y > np.median(y)).astype(np.int64) if _task(algorithm) == "classification" else y


@pytest.mark.parametrize("algorithm", LINEAR)
@pytest.mark.parametrize("holdout_size", [0.0, 0.2])
def test_default_numeric_preprocessing_fits_bit_for_bit_as_the_copying_steps(algorithm, holdout_size):
    X, y = _with_nulls()
    y = _target(algorithm, y)
    before = X.copy()
    estimator = _new(algorithm)
    assert estimator.named_steps["scale"].copy is False
    fitted = fit_with_holdout("m", estimator, X, y, _task(algorithm), holdout_size=holdout_size, random_state=0,
                              class_names=["a", "b"] if _task(algorithm) == "classification" else None)
    np.testing.assert_array_equal(X, before)  # NaN in the same places, every value unchanged
    reference = clone(_old(algorithm))
    rows = np.arange(len(X)) if fitted.holdout_index is None else np.setdiff1d(np.arange(len(X)),
                                                                            fitted.holdout_index)
    reference_evaluated = clone(_old(algorithm)).fit(X[rows], y[rows])
    reference.fit(X, y)
    for got, expected in ((fitted.estimator, reference), (fitted.evaluated, reference_evaluated)):
        model = got[-1]
        assert getattr(model, "copy_X", True) is True  # restored: the version's parameters as configured
        np.testing.assert_array_equal(model.coef_, expected[-1].coef_)
        np.testing.assert_array_equal(model.intercept_, expected[-1].intercept_)
        np.testing.assert_array_equal(got[:-1].transform(X), expected[:-1].transform(X))
        np.testing.assert_array_equal(got.predict(X), expected.predict(X))
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("algorithm", ["linear_regression", "logistic_regression"])
def test_scoring_a_batch_leaves_it_unchanged_and_equals_the_copying_steps(algorithm):
    X, y = _with_nulls()
    y = _target(algorithm, y)
    fitted = fit_with_holdout("m", _new(algorithm), X, y, _task(algorithm), holdout_size=0.0).estimator
    reference = _old(algorithm).fit(X, y)
    for batch in (X[:500].copy(), np.nan_to_num(X[:500], nan=1.5)):  # with NULLs; without (the imputer skipped)
        before = batch.copy()
        got = predict_batch("m", fitted, batch, _task(algorithm))
        expected = predict_batch("m", reference, batch.copy(), _task(algorithm))
        np.testing.assert_array_equal(batch, before)
        for a, b in zip(got, expected):
            if b is not None:
                np.testing.assert_array_equal(a, b)


def test_an_old_pickle_and_a_new_one_score_the_same():
    import io

    import joblib

    X, y = _with_nulls()
    new = fit_with_holdout("m", _new("ridge"), X, y, "regression", holdout_size=0.0).estimator
    old = _old("ridge").fit(X, y)
    loaded = []
    for fitted in (new, old):
        buffer = io.BytesIO()
        joblib.dump(fitted, buffer)
        loaded.append(joblib.load(io.BytesIO(buffer.getvalue())))
    np.testing.assert_array_equal(predict_batch("m", loaded[0], X.copy(), "regression")[0],
                                  predict_batch("m", loaded[1], X.copy(), "regression")[0])


def test_scaling_without_the_imputer_copies_the_callers_matrix():
    from sklearn.ensemble import HistGradientBoostingRegressor  # takes NaN: no imputer, scale forced on

    features = [{"name": f"x{i}", "kind": "numeric"} for i in range(4)]
    settings = {**preprocessing.options("m", "auto"), "scale": True}
    estimator = preprocessing.build("m", HistGradientBoostingRegressor(max_iter=3), features, settings)
    assert [name for name, _ in estimator.steps] == ["scale", "model"] and estimator[0].copy is True
    X, y = _with_nulls(500)
    before = X.copy()
    fit_with_holdout("m", estimator, X, y, "regression", holdout_size=0.0).estimator.predict(X)
    np.testing.assert_array_equal(X, before)


def test_copy_x_is_restored_when_the_fit_fails():
    from dbt_learn.errors import TrainingDataError

    estimator = _new("linear_regression")
    X, _ = _with_nulls(100)
    with pytest.raises(TrainingDataError):
        fit_with_holdout("m", estimator, X, np.full(50, 1.0), "regression", holdout_size=0.0)  # y too short
    assert estimator[-1].copy_X is True
    assert type(estimator.steps[0][1]) is SimpleImputer and estimator.steps[0][1].copy is True


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
@pytest.mark.parametrize("nulls", [True, False])
def test_the_imputer_fitted_on_the_callers_matrix_leaves_it_and_equals_the_copying_fit(strategy, nulls):
    X, y = _with_nulls(2000)
    if not nulls:
        X = np.nan_to_num(X, nan=0.25)
    features = [{"name": f"x{i}", "kind": "numeric"} for i in range(4)]
    settings = {**preprocessing.options("m", "auto"), "impute": strategy}
    estimator = preprocessing.build("m", build_estimator("m", "ridge", {}, 0), features, settings)
    before = X.copy()
    for private in (False, True):
        fitted = preprocessing.fit(clone(estimator), X if not private else X.copy(), y, private_input=private)
        reference = Pipeline([("impute", SimpleImputer(strategy=strategy, add_indicator=True,
                                                       keep_empty_features=True)),
                              ("scale", StandardScaler()), ("model", build_estimator("m", "ridge", {}, 0))]).fit(X, y)
        np.testing.assert_array_equal(X, before)
        assert [name for name, _ in fitted.steps] == ["impute", "scale", "model"]
        np.testing.assert_array_equal(fitted[0].statistics_, reference[0].statistics_)
        np.testing.assert_array_equal(fitted[0].indicator_.features_, reference[0].indicator_.features_)
        np.testing.assert_array_equal(fitted[1].mean_, reference[1].mean_)
        np.testing.assert_array_equal(fitted[1].scale_, reference[1].scale_)
        np.testing.assert_array_equal(fitted[-1].coef_, reference[-1].coef_)
        np.testing.assert_array_equal(fitted.predict(X), reference.predict(X))
        np.testing.assert_array_equal(X, before)


def test_mixed_frames_keep_their_copying_steps_and_equal_the_old_construction():
    import pandas as pd

    X, y = _with_nulls(800)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    frame["city"] = np.random.default_rng(0).choice(["n", "s", None], len(frame)).astype(object)
    features = [{"name": name, "kind": "numeric"} for name in "abcd"] + [{"name": "city", "kind": "categorical"}]
    built = preprocessing.build("m", build_estimator("m", "ridge", {}, 0), features,
                                preprocessing.options("m", "auto"))
    before = frame.copy()
    fitted = fit_with_holdout("m", built, frame, y, "regression", holdout_size=0.0).estimator
    pd.testing.assert_frame_equal(frame, before)
    numeric = fitted[0].named_transformers_["numeric"]
    reference = clone(_old("ridge")[:-1]).fit(frame[list("abcd")].to_numpy())
    np.testing.assert_array_equal(numeric.transform(frame[list("abcd")]), reference.transform(
        frame[list("abcd")].to_numpy()))


def test_a_python_models_own_pipeline_is_fitted_as_it_is(monkeypatch):
    from sklearn.preprocessing import FunctionTransformer

    X, y = _with_nulls(300)
    own = Pipeline([("impute", SimpleImputer()), ("keep", FunctionTransformer()),
                    ("model", build_estimator("m", "linear_regression", {}, 0))])
    fits = []
    monkeypatch.setattr(Pipeline, "fit", lambda self, X, y=None: fits.append(X) or self)
    preprocessing.fit(own, X, y)
    assert fits[0] is X and own.steps[0][0] == "impute"
    preprocessing.fit(_new("linear_regression"), X, y)
    assert fits[1] is not X  # dbt_learn's own: the rest of the Pipeline fits on the imputer's output
