"""Exceptions from a fit or from pickling become one clear error naming the model and the estimator, and the
registry's JSON writing can never produce NaN or Infinity (jsonb refuses them)."""

import json

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeClassifier

from dbt_learn import serialization
from dbt_learn.errors import DbtLearnError, TrainingDataError
from dbt_learn.training import fit_errors, fit_with_holdout


class Exploding(BaseEstimator, RegressorMixin):
    def __init__(self, error=RuntimeError):
        self.error = error

    def fit(self, X, y):
        raise self.error("solver diverged")


class Unpicklable(BaseEstimator):
    def __reduce__(self):
        raise RuntimeError("cannot reduce this")


class SPIError(Exception):
    """Stands for plpy.SPIError (a cancel, a statement timeout): never translated."""


class QueryCanceled(SPIError):
    pass


@pytest.mark.parametrize("error", [RuntimeError, MemoryError, ArithmeticError, KeyError])
def test_any_exception_from_a_fit_names_the_model_the_estimator_and_the_error(error):
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    with pytest.raises(TrainingDataError) as raised:
        fit_with_holdout("m", Exploding(error), X, y, "regression")
    message = str(raised.value)
    assert message.startswith("model 'm': Exploding.fit failed with " + error.__name__), message
    assert "solver diverged" in message and ("meta.sample" in message) == (error is MemoryError)


def test_a_type_error_from_a_fit_is_the_estimators_message():
    with pytest.raises(TrainingDataError, match=r"^model 'm': Exploding.fit failed: solver diverged$"):
        fit_with_holdout("m", Exploding(TypeError), np.zeros((10, 2)), np.zeros(10), "regression")


def test_database_errors_and_the_runtimes_own_pass_through():
    for error in (QueryCanceled("canceling statement due to statement timeout"), DbtLearnError("model 'm': x")):
        with pytest.raises(type(error)) as raised, fit_errors("m", "Est", "fit", ""):
            raise error
        assert raised.value is error


def test_a_nan_target_is_not_reported_as_null_features():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    y[3] = np.nan
    with pytest.raises(TrainingDataError) as raised:
        fit_with_holdout("m", LinearRegression(), X, y, "regression", holdout_size=0)
    message = str(raised.value)
    assert "refused the target column" in message and "Input y contains NaN" in message
    assert "feature column" not in message


def test_any_pickling_failure_names_the_model_and_the_estimator():
    with pytest.raises(DbtLearnError) as raised:
        serialization.dump(Unpicklable(), "m")
    message = str(raised.value)
    assert message.startswith("model 'm': the fitted estimator Unpicklable cannot be saved "
                              "(RuntimeError: cannot reduce this); nothing was registered"), message


def test_json_text_stores_non_finite_numbers_as_null_and_never_writes_nan():
    from dbt_learn.registry import json_text

    value = {"auc": float("nan"), "max": np.float64("inf"), "min": -np.inf, "edges": np.array([0.0, np.nan]),
             "n": np.int64(3), "ok": np.bool_(True), "nested": [{"x": np.float32("nan")}, (1.5, float("-inf"))]}
    text = json_text(value)
    assert json.loads(text) == {"auc": None, "max": None, "min": None, "edges": [0.0, None], "n": 3, "ok": True,
                                "nested": [{"x": None}, [1.5, None]]}
    assert "NaN" not in text and "Infinity" not in text


@pytest.mark.filterwarnings("ignore")
def test_undefined_metrics_of_a_fit_are_stored_as_null():
    """A tree fits on one class and its holdout metrics are undefined (NaN): what reached jsonb before. (Training
    refuses a single-class target first; the registry's writing is the structural guard.)"""
    X, y = np.arange(40.0).reshape(20, 2), np.zeros(20, dtype=np.int64)
    from dbt_learn.registry import json_text

    fit = fit_with_holdout("m", DecisionTreeClassifier(), X, y, "classification", class_names=["a"])
    undefined = [name for name, value in fit.metrics.items() if isinstance(value, float) and np.isnan(value)]
    assert undefined
    stored = json.loads(json_text(fit.metrics))
    assert all(stored[name] is None for name in undefined)
