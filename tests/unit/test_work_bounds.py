"""Work bounds: a hyperparameter that sets the amount of work, or threads_per_model, above the installation's bound
is refused with a message naming the model, the value, the bound and what to do."""

import pytest

from dbt_learn.errors import ConfigurationError
from dbt_learn._work_bounds import check_work_bounds, default_work_bounds
from dbt_learn.estimators import build_estimator, thread_budget

BOUNDS = {"n_estimators": 5000, "max_iter": 100_000, "n_init": 100, "threads_per_model": 4}


def _message(name, value, bound):
    return (f"model 'm': {name}={value!r} is above this database's bound of {bound} (work_bounds, set by the admin "
            f"in dbt_learn.install); lower it, or ask the admin to raise the bound.")


@pytest.mark.parametrize("algorithm, params, name, value, bound", [
    ("random_forest_classifier", {"n_estimators": 100_000}, "n_estimators", 100_000, 5000),
    ("gradient_boosting_regressor", {"n_estimators": 5001}, "n_estimators", 5001, 5000),
    ("hist_gradient_boosting_classifier", {"max_iter": 200_000}, "max_iter", 200_000, 100_000),
    ("logistic_regression", {"max_iter": 1e6}, "max_iter", 1e6, 100_000),
    ("k_means", {"n_init": 1000}, "n_init", 1000, 100),
    ("xgb_classifier", {"n_estimators": 10_000}, "n_estimators", 10_000, 5000),
    ("lgbm_regressor", {"n_estimators": 10_000}, "n_estimators", 10_000, 5000),
    ("bagging_classifier", {"estimator": {"algorithm": "random_forest_classifier",
                                          "params": {"n_estimators": 9000}}}, "n_estimators", 9000, 5000),
])
def test_a_hyperparameter_above_its_bound_is_refused(algorithm, params, name, value, bound):
    with pytest.raises(ConfigurationError) as raised:
        build_estimator("m", algorithm, params, bounds=BOUNDS)
    assert str(raised.value) == _message(name, value, bound)


def test_values_at_the_bound_and_non_numbers_pass():
    build_estimator("m", "random_forest_classifier", {"n_estimators": 5000}, bounds=BOUNDS)
    build_estimator("m", "k_means", {"n_init": "auto", "max_iter": 100_000}, bounds=BOUNDS)
    build_estimator("m", "random_forest_classifier", {"n_estimators": 10_000}, bounds={})  # outside Postgres


def test_a_nested_name_is_bounded_by_its_last_part():
    with pytest.raises(ConfigurationError, match=r"estimator__n_estimators=6000 is above"):
        check_work_bounds("m", {"estimator__n_estimators": 6000}, BOUNDS)


def test_threads_per_model_above_its_bound_is_refused():
    options = {"threads_per_model": 64, "unique_id": "model.project.m"}
    with pytest.raises(ConfigurationError) as raised:
        thread_budget(options, BOUNDS)
    assert str(raised.value) == _message("threads_per_model", 64, 4)
    assert thread_budget({"threads_per_model": 4}, BOUNDS) == 4
    assert thread_budget({"threads_per_model": 64}) == 64  # no bounds known (a worker thread, outside Postgres)


def test_the_default_bounds_name_every_bounded_knob():
    assert set(default_work_bounds()) == {"n_estimators", "max_iter", "n_init", "threads_per_model"}
    assert default_work_bounds()["threads_per_model"] >= 1


def test_an_estimator_built_by_model_code_meets_the_bounds_before_its_fit(monkeypatch):
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    from dbt_learn import _work_bounds
    from dbt_learn.training import fit_with_holdout

    monkeypatch.setattr(_work_bounds, "installed_work_bounds", lambda: BOUNDS)
    X, y = np.random.default_rng(0).normal(size=(50, 2)), np.arange(50) % 2
    with pytest.raises(ConfigurationError) as raised:
        fit_with_holdout("m", RandomForestClassifier(n_estimators=6000), X, y, "classification")
    assert str(raised.value) == _message("n_estimators", 6000, 5000)


@pytest.mark.parametrize("space", [{"n_estimators": [10, 6000]},
                                   {"max_iter": {"distribution": "randint", "low": 10, "high": 200_000}}],
                         ids=["grid", "distribution"])
def test_a_search_space_value_above_its_bound_is_refused(monkeypatch, space):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression

    from dbt_learn import _work_bounds
    from dbt_learn.search import check_search

    monkeypatch.setattr(_work_bounds, "installed_work_bounds", lambda: BOUNDS)
    estimator = RandomForestClassifier() if "n_estimators" in space else LogisticRegression()
    with pytest.raises(ConfigurationError, match="is above this database's bound of"):
        check_search("m", estimator, "classification", {"space": space, "method": "random" if "max_iter" in space
                                                         else "grid"})
