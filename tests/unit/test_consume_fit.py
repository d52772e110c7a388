"""fit_with_holdout(consume_X=True): the final fit may overwrite the caller's matrix instead of copying it, and
everything it records - the fitted model, its metrics, its prediction baseline and the importances' rows - is
bit for bit what the copying fit records."""

import numpy as np
import pytest

from dbt_learn import preprocessing
from dbt_learn.estimators import build_estimator
from dbt_learn.training import fit_with_holdout, importance_rows


def _data(n, nulls, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[0, 5, -3], scale=[1, 2, 0.5], size=(n, 3))
    if nulls:
        X[rng.random(n) < 0.1, 1] = np.nan
    y = np.nan_to_num(X) @ [1.0, -2.0, 0.5] + rng.normal(size=n)
    return X, y


def _pipeline(algorithm):
    features = [{"name": f"x{i}", "kind": "numeric"} for i in range(3)]
    return preprocessing.build("m", build_estimator("m", algorithm, {}, 0), features,
                               preprocessing.options("m", "auto"))


def _fit(algorithm, X, y, holdout_size, consume):
    task = "classification" if algorithm == "logistic_regression" else "regression"
    y = (y > np.median(y)).astype(np.int64) if task == "classification" else y
    return fit_with_holdout("m", _pipeline(algorithm), X, y, task, holdout_size=holdout_size, random_state=0,
                            class_names=["a", "b"] if task == "classification" else None, consume_X=consume), y


@pytest.mark.parametrize("algorithm", ["linear_regression", "ridge", "logistic_regression"])
@pytest.mark.parametrize("holdout_size", [0.0, 0.2])
@pytest.mark.parametrize("nulls", [False, True])
def test_a_consuming_fit_records_what_the_copying_fit_records(algorithm, holdout_size, nulls):
    X, y = _data(30_000, nulls)
    copying, y_fit = _fit(algorithm, X.copy(), y, holdout_size, consume=False)
    consumed_X = X.copy()
    consuming, _ = _fit(algorithm, consumed_X, y, holdout_size, consume=True)
    final_copying, final_consuming = copying.estimator[-1], consuming.estimator[-1]
    np.testing.assert_array_equal(final_consuming.coef_, final_copying.coef_)
    np.testing.assert_array_equal(final_consuming.intercept_, final_copying.intercept_)
    assert consuming.metrics == copying.metrics
    assert consuming.evaluation["prediction_stats"] == copying.evaluation["prediction_stats"]
    rows = importance_rows(len(X), copying.holdout_index, 0)
    taken_X, taken_y = consuming.importance_rows
    np.testing.assert_array_equal(taken_X, X[rows])  # taken before the fit overwrote the matrix
    np.testing.assert_array_equal(taken_y, y_fit[rows])
    np.testing.assert_array_equal(consuming.estimator.predict(X[:500]), copying.estimator.predict(X[:500]))
    # The consuming fit did overwrite the matrix (imputed, scaled and centered in place): no copy was made.
    assert not np.array_equal(consumed_X, X, equal_nan=True)


def test_cross_validation_keeps_the_matrix_for_its_folds():
    X, y = _data(5_000, nulls=True)
    before = X.copy()
    fit_with_holdout("m", _pipeline("ridge"), X, y, "regression", holdout_size=0.2, random_state=0, cv_folds=3,
                     consume_X=True)
    np.testing.assert_array_equal(X, before)
