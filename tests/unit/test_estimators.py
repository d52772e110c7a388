import pytest

from dbt_learn import ConfigurationError, build_estimator, resolve_algorithm, short_name, task_of
from dbt_learn.estimators import class_path


@pytest.mark.parametrize("name, expected", [
    ("logistic_regression", "LogisticRegression"),
    ("random_forest_regressor", "RandomForestRegressor"),
    ("hist_gradient_boosting_classifier", "HistGradientBoostingClassifier"),
    ("svc", "SVC"),
    ("k_means", "KMeans"),
    ("sklearn.linear_model.Ridge", "Ridge"),
])
def test_algorithms_resolve_by_short_name_or_class_path(name, expected):
    assert resolve_algorithm("m", name).__name__ == expected


def test_short_names_round_trip_through_class_names():
    cls = resolve_algorithm("m", "hist_gradient_boosting_classifier")
    assert short_name(cls) == "hist_gradient_boosting_classifier"
    assert class_path(cls) == "sklearn.ensemble.HistGradientBoostingClassifier"


def test_unknown_algorithm_names_the_model_and_suggests_close_names():
    with pytest.raises(ConfigurationError, match=r"model 'churn': unknown algorithm 'logistic_regresion'.*"
                                                 r"Did you mean 'logistic_regression'"):
        resolve_algorithm("churn", "logistic_regresion")


def test_class_paths_outside_the_allow_list_are_refused():
    with pytest.raises(ConfigurationError, match="outside the packages allowed at install time"):
        resolve_algorithm("m", "subprocess.Popen")


def test_class_path_that_is_not_an_estimator_is_refused():
    with pytest.raises(ConfigurationError, match="not a scikit-learn estimator"):
        resolve_algorithm("m", "sklearn.metrics.accuracy_score")


def test_unknown_hyperparameter_lists_the_valid_ones():
    with pytest.raises(ConfigurationError, match=r"unknown hyperparameter 'max_iters'.*Did you mean 'max_iter'"):
        build_estimator("m", "logistic_regression", {"max_iters": 10})


def test_invalid_hyperparameter_value_fails_before_fitting():
    with pytest.raises(ConfigurationError, match="'C' parameter of LogisticRegression"):
        build_estimator("m", "logistic_regression", {"C": -1})


def test_random_state_is_set_only_where_the_estimator_has_one_and_the_user_did_not():
    assert build_estimator("m", "random_forest_classifier", {}, random_state=3).random_state == 3
    assert build_estimator("m", "random_forest_classifier", {"random_state": 9}, random_state=3).random_state == 9
    assert "random_state" not in build_estimator("m", "linear_regression", {}, random_state=3).get_params()


def test_task_comes_from_scikit_learn_tags():
    assert task_of(build_estimator("m", "ridge")) == "regression"
    assert task_of(build_estimator("m", "decision_tree_classifier")) == "classification"
    assert task_of(build_estimator("m", "k_means")) == "clustering"


@pytest.mark.parametrize("algorithm, params, message", [
    ("agglomerative_clustering", {"memory": "/tmp/anywhere"}, "'memory'.*write files"),
    ("random_forest_classifier", {"n_jobs": -1}, "n_jobs=-1 would start worker processes"),
])
def test_hyperparameters_with_server_side_effects_are_refused(algorithm, params, message):
    with pytest.raises(ConfigurationError, match=message):
        build_estimator("m", algorithm, params)


def test_a_clusterer_that_cannot_predict_is_refused_before_training():
    from dbt_learn.estimators import check_scorable

    with pytest.raises(ConfigurationError, match="DBSCAN has no predict method.*k_means"):
        check_scorable("m", build_estimator("m", "dbscan"))
