import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from dbt_learn import TrainingDataError, dump, fit_with_holdout, load
from dbt_learn.errors import DbtLearnError
from dbt_learn.training import numeric_training_stats


def test_holdout_metrics_then_refit_on_every_row():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = X @ [1.0, -2.0, 0.5] + 3
    fitted, metrics, fit_seconds, holdout_rows = fit_with_holdout("m", LinearRegression(), X, y, "regression",
                                                                  holdout_size=0.25, random_state=0)
    assert holdout_rows == 50 and fit_seconds >= 0
    assert metrics["r2"] == pytest.approx(1.0)
    np.testing.assert_allclose(fitted.coef_, LinearRegression().fit(X, y).coef_, atol=1e-12)


def test_classification_holdout_is_stratified_when_possible():
    X = np.arange(40, dtype=float).reshape(-1, 1)
    y = np.array([0] * 30 + [1] * 10)
    _, metrics, _, holdout_rows = fit_with_holdout("m", LogisticRegression(), X, y, "classification",
                                                   holdout_size=0.2, random_state=0)
    assert holdout_rows == 8 and set(metrics) >= {"accuracy", "balanced_accuracy", "f1_macro"}


def test_missing_values_for_an_estimator_that_refuses_them_say_what_to_do():
    X = np.array([[1.0], [np.nan], [3.0], [4.0]])
    with pytest.raises(TrainingDataError, match="model 'm'.*NULLs.*hist_gradient_boosting"):
        fit_with_holdout("m", LinearRegression(), X, np.array([1.0, 2, 3, 4]), "regression", holdout_size=0)


def test_training_stats_count_nulls_and_ignore_them_in_moments():
    stats = numeric_training_stats(["a"], np.array([[1.0], [np.nan], [3.0]]))["a"]
    assert stats == {"count": 3, "nulls": 1, "mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}


def test_artifacts_round_trip_and_a_changed_byte_is_detected():
    artifact, sha256 = dump(LinearRegression().fit([[0], [1]], [0, 1]), "m")
    assert load(artifact, sha256, "m").predict([[2]])[0] == pytest.approx(2)
    with pytest.raises(DbtLearnError, match="altered"):
        load(artifact[:-1] + bytes([artifact[-1] ^ 1]), sha256, "m")
