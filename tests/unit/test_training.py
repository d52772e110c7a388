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
    fit = fit_with_holdout("m", LinearRegression(), X, y, "regression", holdout_size=0.25, random_state=0)
    assert fit.holdout_rows == 50 and fit.fit_seconds >= 0
    assert fit.metrics["r2"] == pytest.approx(1.0)
    assert set(fit.metrics) == {"r2", "mae", "rmse", "mape"}
    np.testing.assert_allclose(fit.estimator.coef_, LinearRegression().fit(X, y).coef_, atol=1e-12)


def test_classification_holdout_is_stratified_when_possible():
    X = np.arange(40, dtype=float).reshape(-1, 1)
    y = np.array([0] * 30 + [1] * 10)
    fit = fit_with_holdout("m", LogisticRegression(), X, y, "classification", holdout_size=0.2, random_state=0,
                           split="stratified")
    assert fit.holdout_rows == 8
    assert set(fit.metrics) >= {"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                                "f1_weighted", "roc_auc", "log_loss", "confusion_matrix"}
    assert np.array(fit.metrics["confusion_matrix"]).sum() == 8


def test_missing_values_for_an_estimator_that_refuses_them_say_what_to_do():
    X = np.array([[1.0], [np.nan], [3.0], [4.0]])
    with pytest.raises(TrainingDataError, match="model 'm'.*NULLs.*hist_gradient_boosting"):
        fit_with_holdout("m", LinearRegression(), X, np.array([1.0, 2, 3, 4]), "regression", holdout_size=0)


def test_training_stats_count_nulls_and_ignore_them_in_moments():
    stats = numeric_training_stats(["a"], np.array([[1.0], [np.nan], [3.0]]))["a"]
    assert {k: stats[k] for k in ("count", "nulls", "mean", "std", "min", "max")} == {
        "count": 3, "nulls": 1, "mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}
    assert stats["quantiles"][0] == 1.0 and stats["quantiles"][-1] == 3.0
    assert sum(stats["frequencies"]) == pytest.approx(1.0)


def test_training_stats_histogram_matches_numpy_and_spans_every_value():
    values = np.random.default_rng(1).exponential(size=(5000, 1))
    stats = numeric_training_stats(["a"], values)["a"]
    expected, _ = np.histogram(values, bins=np.array(stats["quantiles"]))
    assert stats["frequencies"] == pytest.approx((expected / 5000).tolist())
    assert stats["quantiles"][0] == values.min() and stats["quantiles"][-1] == values.max()
    big = np.random.default_rng(2).normal(size=(1_000_003, 1))
    big_stats = numeric_training_stats(["b"], big)["b"]
    assert big_stats["count"] == 1_000_003 and big_stats["max"] == big.max()
    assert big_stats["frequencies"] == pytest.approx([0.1] * 10, abs=0.005)


def test_artifacts_round_trip_and_a_changed_byte_is_detected():
    artifact, sha256 = dump(LinearRegression().fit([[0], [1]], [0, 1]), "m")
    assert load(artifact, sha256, "m").predict([[2]])[0] == pytest.approx(2)
    with pytest.raises(DbtLearnError, match="altered"):
        load(artifact[:-1] + bytes([artifact[-1] ^ 1]), sha256, "m")


def test_stratified_split_keeps_class_shares_and_refuses_a_class_of_one_row():
    from dbt_learn.evaluation import split_rows

    y = np.array([0] * 30 + [1] * 10)
    _, holdout = split_rows("m", y, "classification", 40, holdout_size=0.2, random_state=0, split="stratified")
    assert np.bincount(y[holdout]).tolist() == [6, 2]
    with pytest.raises(TrainingDataError, match="model 'm': meta.split 'stratified'.*class '1' has 1 row"):
        split_rows("m", np.array([0] * 9 + [1]), "classification", 10, holdout_size=0.2, random_state=0,
                   split="stratified")


def test_time_split_holds_out_the_latest_rows():
    from dbt_learn.evaluation import split_rows

    order = np.array([5.0, 1.0, 4.0, 2.0, 3.0])
    fit, holdout = split_rows("m", None, "regression", 5, holdout_size=0.4, random_state=0, split="time", order=order)
    assert holdout.tolist() == [0, 2] and fit.tolist() == [1, 3, 4]


def test_cross_validation_reports_mean_and_spread_per_metric():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 2))
    y = X @ [1.0, 2.0] + rng.normal(scale=0.1, size=60)
    fit = fit_with_holdout("m", LinearRegression(), X, y, "regression", holdout_size=0.2, random_state=0, cv_folds=3)
    assert fit.evaluation["cv"]["r2"]["folds"] == 3 and fit.evaluation["cv"]["r2"]["mean"] > 0.9
    assert fit.evaluation["cv"]["rmse"]["mean"] > 0


def test_without_a_holdout_the_estimator_fits_on_the_matrix_itself_not_a_copy():
    seen = []

    class Spy(LinearRegression):
        def fit(self, X, y):
            seen.append((X, y))
            return super().fit(X, y)

    X, y = np.arange(20.0).reshape(10, 2), np.arange(10.0)
    fit_with_holdout("m", Spy(), X, y, "regression", holdout_size=0)
    assert len(seen) == 1 and seen[0][0] is X and seen[0][1] is y
