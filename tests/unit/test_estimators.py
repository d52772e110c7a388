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


# --- meta-estimators and required arguments ----------------------------------------------------------------------

def _xy(task="classification", n=120):
    import numpy as np

    rng = np.random.RandomState(5)
    X = rng.rand(n, 3)
    return X, ((X[:, 0] > 0.5).astype(int) if task == "classification" else X @ [1.0, -2.0, 0.5])


def test_voting_classifier_builds_from_a_list_of_name_spec_pairs_and_matches_scikit_learn():
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier
    from sklearn.linear_model import LogisticRegression

    params = {"estimators": [["lr", "logistic_regression"],
                             ["rf", {"algorithm": "random_forest_classifier", "params": {"n_estimators": 7}}]],
              "voting": "soft"}
    built = build_estimator("m", "voting_classifier", params, random_state=1)
    offline = VotingClassifier([("lr", LogisticRegression(random_state=1)),
                                ("rf", RandomForestClassifier(n_estimators=7, random_state=1))], voting="soft")
    X, y = _xy()
    np.testing.assert_allclose(built.fit(X, y).predict_proba(X), offline.fit(X, y).predict_proba(X))
    assert task_of(built) == "classification"


def test_stacking_regressor_with_xgboost_and_a_final_estimator_fits():
    import numpy as np

    params = {"estimators": [["ridge", "ridge"], ["xgb", {"algorithm": "xgb_regressor",
                                                           "params": {"n_estimators": 10}}]],
              "final_estimator": "sklearn.linear_model.LinearRegression"}
    built = build_estimator("m", "stacking_regressor", params, random_state=0, threads=1)
    assert built.named_estimators["xgb"].n_jobs == 1 and built.named_estimators["xgb"].n_estimators == 10
    X, y = _xy("regression")
    assert np.isfinite(built.fit(X, y).predict(X)).all()


@pytest.mark.parametrize("algorithm, params, nested", [
    ("one_vs_rest_classifier", {"estimator": "svc"}, "SVC"),
    ("bagging_classifier", {"estimator": {"algorithm": "decision_tree_classifier", "params": {"max_depth": 2}}},
     "DecisionTreeClassifier"),
    ("ada_boost_regressor", {"estimator": "ridge"}, "Ridge"),
    ("transformed_target_regressor", {"regressor": "lasso"}, "Lasso"),
])
def test_estimator_valued_hyperparameters_take_a_name_or_a_mapping(algorithm, params, nested):
    built = build_estimator("m", algorithm, params, random_state=0)
    inner = next(value for key, value in built.get_params(deep=False).items() if key in params)
    assert type(inner).__name__ == nested
    X, y = _xy("regression" if "regressor" in algorithm else "classification")
    built.fit(X, y).predict(X)


def test_nested_estimators_get_the_same_checks():
    with pytest.raises(ConfigurationError, match=r"model 'm': unknown hyperparameter 'max_dept' for "
                                                 r"DecisionTreeClassifier. Did you mean 'max_depth'"):
        build_estimator("m", "bagging_classifier",
                        {"estimator": {"algorithm": "decision_tree_classifier", "params": {"max_dept": 2}}})
    with pytest.raises(ConfigurationError, match="n_jobs=-1 would start worker processes"):
        build_estimator("m", "voting_classifier",
                        {"estimators": [["rf", {"algorithm": "random_forest_classifier", "params": {"n_jobs": -1}}]]})
    with pytest.raises(ConfigurationError, match="rf__n_jobs=4 would start worker processes"):
        build_estimator("m", "voting_classifier", {"estimators": [["rf", "random_forest_classifier"]],
                                                   "rf__n_jobs": 4})
    with pytest.raises(ConfigurationError, match="'grid_search_cv' is a hyperparameter search"):
        build_estimator("m", "one_vs_rest_classifier", {"estimator": "grid_search_cv"})
    with pytest.raises(ConfigurationError, match="unknown algorithm 'logistic_regresion'"):
        build_estimator("m", "voting_classifier", {"estimators": [["lr", "logistic_regresion"]]})


@pytest.mark.parametrize("algorithm, params, message", [
    ("voting_classifier", {}, r"model 'm': VotingClassifier needs the argument 'estimators' \(it has no default\); "
                              r"give it in meta.params, e.g. params: \{estimators: \[\['lr', 'logistic_regression'\]"),
    ("one_vs_rest_classifier", {}, r"OneVsRestClassifier needs the argument 'estimator'.*params: \{estimator: "
                                   r"'logistic_regression' or \{algorithm: "),
    ("sparse_coder", {}, r"SparseCoder needs the argument 'dictionary'.*params: \{dictionary: ...\}"),
    ("self_training_classifier", {}, r"'estimator' parameter of SelfTrainingClassifier.*Give it in meta.params"),
    ("voting_classifier", {"estimators": "logistic_regression"}, r"'estimators' of VotingClassifier takes a list "
                                                                 r"of \[name, estimator\] pairs"),
    ("voting_classifier", {"estimators": [["lr", {"algo": "svc"}]]}, r"'estimators.lr' of VotingClassifier takes "
                                                                     r"an estimator"),
    ("grid_search_cv", {}, r"model 'm': 'grid_search_cv' is a hyperparameter search, not an estimator; set "
                           r"meta.algorithm to the estimator to tune and describe the search in meta.search"),
    ("randomized_search_cv", {}, r"hyperparameter search.*meta.search"),
    ("halving_grid_search_cv", {}, r"hyperparameter search.*meta.search"),
    ("sklearn.model_selection.GridSearchCV", {}, r"hyperparameter search.*meta.search"),
    ("pipeline", {}, r"model 'm': Pipeline composes preprocessing steps, which dbt_learn does itself for SQL models "
                     r"\(meta.preprocessing\).*custom Pipeline from a dbt Python model"),
    ("column_transformer", {}, r"ColumnTransformer composes preprocessing steps"),
    ("feature_union", {}, r"FeatureUnion composes preprocessing steps"),
    ("multi_task_lasso", {}, r"MultiTaskLasso predicts several target columns.*'lasso'"),
    ("multi_output_regressor", {"estimator": "ridge"}, r"MultiOutputRegressor predicts several target columns"),
])
def test_what_cannot_be_built_says_what_to_do(algorithm, params, message):
    with pytest.raises(ConfigurationError, match=message):
        build_estimator("m", algorithm, params)


@pytest.mark.parametrize("algorithm", ["standard_scaler", "pca", "one_hot_encoder"])
def test_transformers_are_refused_as_ml_train_models(algorithm):
    from dbt_learn.estimators import check_scorable

    with pytest.raises(ConfigurationError, match=r"model 'm': \w+ is a transformer: it changes features but "
                                                 r"predicts nothing.*preprocessing of SQL models is automatic"):
        check_scorable("m", build_estimator("m", algorithm))
    with pytest.raises(ConfigurationError, match="is a transformer"):
        task_of(build_estimator("m", algorithm))


def test_plain_params_of_a_meta_estimator_are_json_in_the_params_syntax():
    import json

    from dbt_learn.estimators import plain_params

    built = build_estimator("m", "voting_classifier", {"estimators": [
        ["lr", "logistic_regression"], ["xgb", {"algorithm": "xgb_classifier", "params": {"max_depth": 2}}]]},
        threads=2)
    plain = json.loads(json.dumps(plain_params(built), allow_nan=False))
    assert plain["estimators"][0] == ["lr", {"algorithm": "logistic_regression", "params": {}}]
    assert plain["estimators"][1][1]["params"] == {"max_depth": 2, "n_jobs": 2, "verbosity": 0}
    assert plain["voting"] == "hard"
