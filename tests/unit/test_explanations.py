"""Explanations against reference computations: manual numpy for linear models, an independent walk of every row's
path for trees, the libraries' own margins for XGBoost and LightGBM, scikit-learn for importances."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.ensemble import (ExtraTreesRegressor, GradientBoostingClassifier, GradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.impute import SimpleImputer
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LinearRegression, LogisticRegression, PoissonRegressor, Ridge
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from dbt_learn.errors import ScoringError
from dbt_learn.explanations import contributions, global_importances, top_contributions

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_DIAB, Y_DIAB = load_diabetes(return_X_y=True)
X_CANCER, Y_CANCER = load_breast_cancer(return_X_y=True)


def scaled(estimator, X, y):
    return Pipeline([("preprocess", StandardScaler()), ("model", estimator)]).fit(X, y)


# Linear models: coef * x on the transformed features, base = intercept.

def test_linear_regression_contributions_are_coef_times_the_standardised_features():
    fitted = scaled(Ridge(alpha=0.5), X_DIAB, Y_DIAB)
    matrix, base, names, output, classes = contributions(fitted, X_DIAB[:50])
    Z = (X_DIAB[:50] - X_DIAB.mean(axis=0)) / X_DIAB.std(axis=0)
    np.testing.assert_allclose(matrix, Z * fitted[-1].coef_, atol=1e-9)
    np.testing.assert_allclose(base, fitted[-1].intercept_, atol=1e-12)
    np.testing.assert_allclose(base + matrix.sum(axis=1), fitted.predict(X_DIAB[:50]), atol=1e-9)
    assert output == "prediction" and classes is None and len(names) == 10


def test_binary_logistic_regression_explains_the_positive_class_log_odds():
    fitted = LogisticRegression(max_iter=5000).fit(X_CANCER, Y_CANCER)
    matrix, base, _, output, classes = contributions(fitted, X_CANCER)
    np.testing.assert_allclose(matrix, X_CANCER * fitted.coef_[0], atol=1e-9)
    proba = fitted.predict_proba(X_CANCER)[:, 1]
    np.testing.assert_allclose(base + matrix.sum(axis=1), np.log(proba / (1 - proba)), atol=1e-6)
    assert (classes == 1).all() and output == "decision function of the positive class"


def test_multiclass_linear_model_explains_each_rows_predicted_class():
    fitted = scaled(LogisticRegression(), X_IRIS, Y_IRIS)
    matrix, base, _, _, classes = contributions(fitted, X_IRIS)
    predicted = fitted.predict(X_IRIS)
    np.testing.assert_array_equal(classes, predicted)
    Z = fitted[:-1].transform(X_IRIS)
    coef, intercept = fitted[-1].coef_, fitted[-1].intercept_
    np.testing.assert_allclose(matrix, Z * coef[predicted], atol=1e-9)
    np.testing.assert_allclose(base, intercept[predicted], atol=1e-12)
    decision = fitted.decision_function(X_IRIS)
    np.testing.assert_allclose(base + matrix.sum(axis=1), decision[np.arange(150), predicted], atol=1e-9)


def test_generalised_linear_models_explain_the_linear_predictor():
    fitted = scaled(PoissonRegressor(), X_DIAB, Y_DIAB)
    matrix, base, _, output, _ = contributions(fitted, X_DIAB)
    assert output == "linear predictor"
    np.testing.assert_allclose(np.exp(base + matrix.sum(axis=1)), fitted.predict(X_DIAB), rtol=1e-9)


# Trees: an independent walk of each row's path.

def reference_walk(tree, x, values):
    t = tree.tree_
    node, found = 0, np.zeros(tree.n_features_in_)
    while t.children_left[node] != -1:
        feature = t.feature[node]
        value = np.float32(x[feature])
        left = value <= t.threshold[node] if not np.isnan(value) else bool(t.missing_go_to_left[node])
        child = t.children_left[node] if left else t.children_right[node]
        found[feature] += values[child] - values[node]
        node = child
    return found, values[0]


def class_values(tree, cls):
    value = tree.tree_.value[:, 0, :]
    return value[:, cls] / value.sum(axis=1)


@pytest.mark.parametrize("estimator, X, y", [
    (DecisionTreeRegressor(max_depth=5, random_state=0), X_DIAB, Y_DIAB),
    (RandomForestRegressor(n_estimators=7, max_depth=4, random_state=0), X_DIAB, Y_DIAB),
    (ExtraTreesRegressor(n_estimators=5, random_state=0), X_DIAB, Y_DIAB),
])
def test_tree_regressor_contributions_equal_a_walk_of_each_path(estimator, X, y):
    fitted = estimator.fit(X, y)
    matrix, base, _, output, classes = contributions(fitted, X[:40])
    trees = getattr(fitted, "estimators_", [fitted])
    for row in range(40):
        walks = [reference_walk(tree, X[row], tree.tree_.value[:, 0, 0]) for tree in trees]
        np.testing.assert_allclose(matrix[row], np.mean([w[0] for w in walks], axis=0), atol=1e-9)
        assert base[row] == pytest.approx(np.mean([w[1] for w in walks]), abs=1e-9)
    np.testing.assert_allclose(base + matrix.sum(axis=1), fitted.predict(X[:40]), atol=1e-9)
    assert output == "prediction" and classes is None


@pytest.mark.parametrize("X, y", [(X_CANCER, Y_CANCER), (X_IRIS, Y_IRIS)])
def test_forest_classifier_contributions_explain_the_probability(X, y):
    fitted = RandomForestClassifier(n_estimators=6, max_depth=4, random_state=0).fit(X, y)
    matrix, base, _, output, classes = contributions(fitted, X)
    proba = fitted.predict_proba(X)
    expected_class = np.ones(len(X), int) if proba.shape[1] == 2 else proba.argmax(axis=1)
    np.testing.assert_array_equal(classes, expected_class)
    for row in range(0, len(X), 7):
        walks = [reference_walk(tree, X[row], class_values(tree, classes[row])) for tree in fitted.estimators_]
        np.testing.assert_allclose(matrix[row], np.mean([w[0] for w in walks], axis=0), atol=1e-9)
    np.testing.assert_allclose(base + matrix.sum(axis=1), proba[np.arange(len(X)), classes], atol=1e-9)
    assert output.startswith("probability of the")


def test_rows_with_missing_values_follow_the_trees_missing_branch():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    X[rng.random(300) < 0.2, 1] = np.nan
    y = (np.nan_to_num(X[:, 1], nan=1.0) + X[:, 0] > 0.5).astype(int)
    fitted = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    matrix, base, _, _, _ = contributions(fitted, X)
    for row in np.flatnonzero(np.isnan(X[:, 1]))[:20]:
        walks = [reference_walk(tree, X[row], class_values(tree, 1)) for tree in fitted.estimators_]
        np.testing.assert_allclose(matrix[row], np.mean([w[0] for w in walks], axis=0), atol=1e-9)
    np.testing.assert_allclose(base + matrix.sum(axis=1), fitted.predict_proba(X)[:, 1], atol=1e-9)


def test_single_decision_tree_classifier():
    fitted = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X_IRIS, Y_IRIS)
    matrix, base, _, _, classes = contributions(fitted, X_IRIS)
    for row in range(0, 150, 11):
        found, root = reference_walk(fitted, X_IRIS[row], class_values(fitted, classes[row]))
        np.testing.assert_allclose(matrix[row], found, atol=1e-12)
        assert base[row] == pytest.approx(root)


@pytest.mark.parametrize("estimator, X, y", [
    (GradientBoostingRegressor(n_estimators=15, max_depth=3, random_state=0), X_DIAB, Y_DIAB),
    (GradientBoostingClassifier(n_estimators=15, max_depth=2, random_state=0), X_CANCER, Y_CANCER),
    (GradientBoostingClassifier(n_estimators=10, max_depth=2, random_state=0), X_IRIS, Y_IRIS),
])
def test_gradient_boosting_contributions_walk_every_stage_in_the_raw_score(estimator, X, y):
    fitted = estimator.fit(X, y)
    matrix, base, _, _, classes = contributions(fitted, X)
    raw = fitted.decision_function(X) if hasattr(fitted, "classes_") else fitted.predict(X)
    raw = raw.reshape(len(X), -1)
    column = np.zeros(len(X), int) if raw.shape[1] == 1 else raw.argmax(axis=1)
    for row in range(0, len(X), 13):
        expected = sum(reference_walk(tree, X[row], tree.tree_.value[:, 0, 0] * fitted.learning_rate)[0]
                       for tree in fitted.estimators_[:, column[row]])
        np.testing.assert_allclose(matrix[row], expected, atol=1e-9)
    np.testing.assert_allclose(base + matrix.sum(axis=1), raw[np.arange(len(X)), column], atol=1e-9)
    for cls in np.unique(column):  # the base is the same for every row of a class: init + the root values
        assert np.ptp(base[column == cls]) < 1e-9


@pytest.mark.parametrize("X, y", [(X_CANCER, Y_CANCER), (X_IRIS, Y_IRIS), (X_DIAB, Y_DIAB)])
def test_xgboost_contributions_add_up_to_the_booster_margin(X, y):
    import xgboost

    cls = xgboost.XGBRegressor if y is Y_DIAB else xgboost.XGBClassifier
    fitted = scaled(cls(n_estimators=12, max_depth=3, random_state=0), X, y)
    matrix, base, _, _, classes = contributions(fitted, X)
    margin = fitted[-1].get_booster().predict(xgboost.DMatrix(fitted[:-1].transform(X)), output_margin=True)
    margin = margin.reshape(len(X), -1)
    picked = margin[:, 0] if margin.shape[1] == 1 else margin[np.arange(len(X)), classes]
    np.testing.assert_allclose(base + matrix.sum(axis=1), picked, atol=1e-4)  # float32 inside XGBoost
    if margin.shape[1] > 1:
        np.testing.assert_array_equal(classes, margin.argmax(axis=1))


@pytest.mark.parametrize("X, y", [(X_CANCER, Y_CANCER), (X_IRIS, Y_IRIS), (X_DIAB, Y_DIAB)])
def test_lightgbm_contributions_add_up_to_the_raw_score(X, y):
    import lightgbm

    cls = lightgbm.LGBMRegressor if y is Y_DIAB else lightgbm.LGBMClassifier
    fitted = cls(n_estimators=12, random_state=0, verbose=-1).fit(X, y)
    matrix, base, _, _, classes = contributions(fitted, X)
    raw = fitted.predict(X, raw_score=True).reshape(len(X), -1)
    picked = raw[:, 0] if raw.shape[1] == 1 else raw[np.arange(len(X)), classes]
    np.testing.assert_allclose(base + matrix.sum(axis=1), picked, atol=1e-9)


def test_top_contributions_are_the_largest_in_absolute_value_in_order():
    fitted = scaled(LogisticRegression(), X_IRIS, Y_IRIS)
    full, *_ = contributions(fitted, X_IRIS)
    top = top_contributions(fitted, X_IRIS, 2)
    assert top.feature_index.shape == (150, 2) and top.feature_index.dtype == np.int32
    for row in range(150):
        expected = sorted(range(4), key=lambda f: -abs(full[row, f]))[:2]
        assert list(top.feature_index[row]) == expected
        np.testing.assert_allclose(top.contribution[row], full[row, expected])
    assert top_contributions(fitted, X_IRIS, 99).feature_index.shape == (150, 4)
    positions, values, names, base = top  # what ml_score unpacks
    assert names == ["x0", "x1", "x2", "x3"] and base.shape == (150,)
    np.testing.assert_array_equal(top.class_index, fitted.predict(X_IRIS))
    assert top.output == "decision function of the predicted class"


def test_other_estimators_have_no_per_row_explanations():
    fitted = KNeighborsClassifier().fit(X_IRIS, Y_IRIS)
    with pytest.raises(ScoringError, match="per-row explanations exist for linear models.*KNeighborsClassifier"):
        top_contributions(fitted, X_IRIS, 3, model="churn")


# Global importances.

def frame_pipeline(estimator):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 400), "city": rng.choice(["a", "b", "c"], 400).astype(object),
                          "income": rng.normal(0, 1, 400)})
    frame.loc[::9, "age"] = np.nan
    y = ((frame.city == "a") | (frame.income > 0.5)).astype(int).to_numpy()
    numeric = Pipeline([("impute", SimpleImputer(add_indicator=True)), ("scale", StandardScaler())])
    preprocess = ColumnTransformer([("age", numeric, ["age"]), ("city", OneHotEncoder(), ["city"]),
                                    ("income", numeric, ["income"])], verbose_feature_names_out=False)
    return Pipeline([("preprocess", preprocess), ("model", estimator)]).fit(frame, y), frame, y


def test_coefficient_importances_sum_back_to_their_columns():
    fitted, frame, y = frame_pipeline(LogisticRegression())
    result = global_importances("m", fitted, frame, y, "classification", 0)
    assert result["method"] == "coefficients"
    assert [(f["feature"], f["column"]) for f in result["features"]] == [
        ("age", "age"), ("missingindicator_age", "age"), ("city_a", "city"), ("city_b", "city"), ("city_c", "city"),
        ("income", "income")]
    coef = np.abs(fitted[-1].coef_[0])
    np.testing.assert_allclose([f["importance"] for f in result["features"]], coef)
    assert {c["column"]: c["importance"] for c in result["columns"]} == pytest.approx(
        {"age": coef[0] + coef[1], "city": coef[2:5].sum(), "income": coef[5]})


def test_impurity_importances_are_the_forests_own():
    fitted = RandomForestClassifier(n_estimators=5, random_state=0).fit(X_IRIS, Y_IRIS)
    result = global_importances("m", fitted, None, None, "classification", 0, feature_names=["a", "b", "c", "d"])
    assert result["method"] == "impurity"
    np.testing.assert_allclose([c["importance"] for c in result["columns"]], fitted.feature_importances_)
    assert [c["column"] for c in result["columns"]] == ["a", "b", "c", "d"]


def test_multiclass_coefficients_are_averaged_over_classes():
    fitted = scaled(LogisticRegression(), X_IRIS, Y_IRIS)
    result = global_importances("m", fitted, X_IRIS, Y_IRIS, "classification", 0)
    np.testing.assert_allclose([f["importance"] for f in result["features"]], np.abs(fitted[-1].coef_).mean(axis=0))


def test_gain_importances_of_xgboost_and_lightgbm():
    import lightgbm
    import xgboost

    fitted = xgboost.XGBRegressor(n_estimators=10, random_state=0).fit(X_DIAB, Y_DIAB)
    result = global_importances("m", fitted, X_DIAB, Y_DIAB, "regression", 0)
    gains = fitted.get_booster().get_score(importance_type="total_gain")
    expected = np.array([gains.get(f"f{i}", 0.0) for i in range(10)])
    assert result["method"] == "gain"
    np.testing.assert_allclose([f["importance"] for f in result["features"]], expected / expected.sum())
    fitted = lightgbm.LGBMRegressor(n_estimators=10, random_state=0, verbose=-1).fit(X_DIAB, Y_DIAB)
    gains = fitted.booster_.feature_importance(importance_type="gain")
    np.testing.assert_allclose([f["importance"] for f in global_importances(
        "m", fitted, X_DIAB, Y_DIAB, "regression", 0)["features"]], gains / gains.sum())


def test_permutation_importance_on_the_holdout_for_other_estimators():
    fitted, frame, y = frame_pipeline(KNeighborsClassifier())
    result = global_importances("m", fitted, frame, y, "classification", 3)
    expected = permutation_importance(fitted, frame, y, scoring="accuracy", n_repeats=5, random_state=3)
    assert result["method"] == "permutation" and result["source"] == "holdout" and result["rows"] == 400
    assert [c["column"] for c in result["columns"]] == ["age", "city", "income"]
    np.testing.assert_allclose([c["importance"] for c in result["columns"]], expected.importances_mean)
    sampled = global_importances("m", fitted, frame, y, "classification", 3, max_rows=100)
    assert sampled["rows"] == 100
    assert global_importances("m", fitted, None, None, "classification", 3) is None


def test_clusterer_importance_is_the_share_of_rows_changing_segment():
    from sklearn.cluster import KMeans

    fitted = scaled(KMeans(n_clusters=3, n_init=1, random_state=0), X_IRIS, None)
    result = global_importances("m", fitted, X_IRIS, None, "clustering", 0)
    expected = permutation_importance(fitted, X_IRIS, fitted.predict(X_IRIS), scoring="accuracy", n_repeats=5,
                                      random_state=0)
    np.testing.assert_allclose([c["importance"] for c in result["columns"]], expected.importances_mean)
    assert all(0 <= c["importance"] <= 1 for c in result["columns"])


def test_bare_estimator_on_an_array_uses_the_given_names():
    fitted = LinearRegression().fit(X_DIAB, Y_DIAB)
    names = [f"c{i}" for i in range(10)]
    result = global_importances("m", fitted, X_DIAB, Y_DIAB, "regression", 0, feature_names=names)
    assert [f["feature"] for f in result["features"]] == names
    np.testing.assert_allclose([c["importance"] for c in result["columns"]], np.abs(fitted.coef_))


# The Pipelines dbt_learn's automatic preprocessing builds (preprocessing.build).

def _built(algorithm, frame, y, kinds):
    from dbt_learn import preprocessing
    from dbt_learn.estimators import build_estimator

    features = [{"name": name, "type": "x", "kind": kind} for name, kind in kinds.items()]
    estimator = preprocessing.build("m", build_estimator("m", algorithm, {}, 0), features,
                                    preprocessing.options("m", "auto"))
    X = frame if preprocessing.takes_frame(estimator) else frame[list(kinds)].to_numpy(np.float64)
    return estimator.fit(X, y), X


def _mixed_frame():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"age": rng.normal(40, 10, 300), "income": rng.normal(0, 1, 300),
                          "city": rng.choice(["north", "south", "east"], 300).astype(object),
                          "town": rng.choice(["a", "b"], 300).astype(object)})
    frame.loc[::6, "age"] = np.nan
    y = ((frame.city == "north") | (frame.income > 0.3)).astype(int).to_numpy()
    return frame, y


@pytest.mark.parametrize("algorithm", ["logistic_regression", "random_forest_classifier", "k_neighbors_classifier"])
def test_importances_of_dbt_learns_grouped_column_transformer_map_back_to_columns(algorithm):
    frame, y = _mixed_frame()
    kinds = {"age": "numeric", "income": "numeric", "city": "categorical", "town": "categorical"}
    fitted, X = _built(algorithm, frame, y, kinds)
    result = global_importances("m", fitted, X, y, "classification", 0)
    for entry in result["features"]:
        assert entry["column"] in kinds
        assert entry["feature"] == entry["column"] or entry["feature"].startswith(entry["column"] + "_") \
            or entry["feature"].endswith("_" + entry["column"])
    assert [c["column"] for c in result["columns"]] == (list(kinds) if result["method"] == "permutation"
                                                        else ["age", "income", "city", "town"])
    if result["method"] == "coefficients":
        assert [f["feature"] for f in result["features"] if f["column"] == "age"] == ["age", "missingindicator_age"]
        assert len([f for f in result["features"] if f["column"] == "city"]) == 3


@pytest.mark.parametrize("algorithm", ["ridge", "random_forest_regressor"])
def test_numeric_only_pipelines_on_a_matrix_are_named_by_the_given_columns(algorithm):
    frame, _ = _mixed_frame()
    y = frame.income.to_numpy() * 2 + np.nan_to_num(frame.age.to_numpy(), nan=40) / 10
    fitted, X = _built(algorithm, frame, y, {"age": "numeric", "income": "numeric"})
    result = global_importances("m", fitted, X, y, "regression", 0, feature_names=["age", "income"])
    assert {c["column"] for c in result["columns"]} == {"age", "income"}
    assert all(f["column"] in ("age", "income") for f in result["features"])
    matrix, base, names, _, _ = contributions(fitted, X, feature_names=["age", "income"])
    assert set(names) <= {"age", "income", "missingindicator_age"}
    np.testing.assert_allclose(base + matrix.sum(axis=1), fitted.predict(X), atol=1e-9)
