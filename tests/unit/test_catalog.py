"""The catalog (dbt_learn._catalog) and the meta-estimator syntax of build_estimator, checked against scikit-learn,
XGBoost and LightGBM themselves: fitted estimators, their tags and attributes."""

import warnings

import numpy as np
import pytest
from threadpoolctl import threadpool_limits
from sklearn.utils import all_estimators

from dbt_learn import ConfigurationError, build_estimator, resolve_algorithm, task_of
from dbt_learn._catalog import COLUMNS, catalog, counts
from dbt_learn.estimators import check_scorable, class_path, short_name, task_or_none, thread_budget

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # PassiveAggressive* are deprecated in 1.9

# Lower bounds that hold for scikit-learn 1.9 (the pinned version lists 42/49/12/5): a smaller number means the
# catalog lost estimators.
MINIMA = {"classification": 35, "regression": 40, "clustering": 8, "anomaly_detection": 5}


@pytest.fixture(scope="module")
def rows():
    return {row["name"]: row for row in catalog()}


def test_catalog_counts_per_task_exceed_known_minima(rows):
    table = counts(rows.values())
    for task, minimum in MINIMA.items():
        assert table[task]["sklearn"] >= minimum, table
    assert table["classification"]["xgboost"] == 2 and table["regression"]["xgboost"] == 2
    assert table["classification"]["lightgbm"] == 1 and table["regression"]["lightgbm"] == 1
    assert set(table) == {"classification", "regression", "clustering", "anomaly_detection"}


def test_every_row_has_the_columns_of_the_sql_function(rows):
    for row in rows.values():
        assert tuple(row) == COLUMNS
        assert row["summary"] and row["summary"][-1] in ".)", row


def test_every_scikit_learn_predictor_is_listed_under_its_task():
    """Cross-check with scikit-learn's own listing: each estimator that builds with no arguments, predicts a single
    target and has a task tag is in the catalog with that task."""
    listed = {row["class_path"].rsplit(".", 1)[-1]: row["task"] for row in catalog()}
    from dbt_learn._meta_estimators import multi_output_only, required_arguments

    expected = {}
    for name, cls in all_estimators():
        if required_arguments(cls) or name in ("Pipeline", "GridSearchCV", "RandomizedSearchCV"):
            continue
        instance = cls()
        if multi_output_only(instance):
            continue
        task = task_or_none(instance)
        if task:
            expected[name] = task
    assert {name: listed.get(name) for name in expected} == expected
    assert "StandardScaler" not in listed and "PCA" not in listed and "MultiTaskLasso" not in listed


@pytest.mark.parametrize("name, task, package, probabilities, importances, can_score, needs_arguments", [
    ("random_forest_classifier", "classification", "sklearn", True, True, True, False),
    ("xgb_classifier", "classification", "xgboost", True, True, True, False),
    ("xgbrf_regressor", "regression", "xgboost", False, True, True, False),
    ("lgbm_regressor", "regression", "lightgbm", False, True, True, False),
    ("lgbm_classifier", "classification", "lightgbm", True, True, True, False),
    ("logistic_regression", "classification", "sklearn", True, True, True, False),
    ("svc", "classification", "sklearn", False, False, True, False),
    ("hist_gradient_boosting_classifier", "classification", "sklearn", True, True, True, False),
    ("hist_gradient_boosting_regressor", "regression", "sklearn", False, True, True, False),
    ("isolation_forest", "anomaly_detection", "sklearn", False, False, True, False),
    ("local_outlier_factor", "anomaly_detection", "sklearn", False, False, True, False),
    ("dbscan", "clustering", "sklearn", False, False, False, False),
    ("k_means", "clustering", "sklearn", False, False, True, False),
    ("voting_classifier", "classification", "sklearn", True, False, True, True),
    ("stacking_regressor", "regression", "sklearn", False, False, True, True),
])
def test_known_estimators_have_the_right_flags(rows, name, task, package, probabilities, importances, can_score,
                                               needs_arguments):
    row = rows[name]
    assert (row["task"], row["package"], row["predicts_probabilities"], row["has_importances"], row["can_score"],
            row["needs_arguments"]) == (task, package, probabilities, importances, can_score, needs_arguments)


def test_anomaly_detectors_are_exactly_scikit_learns_outlier_detectors(rows):
    from dbt_learn._meta_estimators import required_arguments

    detectors = {short_name(cls) for _, cls in all_estimators()
                 if not required_arguments(cls) and task_or_none(cls()) == "anomaly_detection"}
    assert {name for name, row in rows.items() if row["task"] == "anomaly_detection"} == detectors
    assert detectors >= {"isolation_forest", "one_class_svm", "sgd_one_class_svm", "elliptic_envelope",
                         "local_outlier_factor"}


def _fit_small(estimator, task):
    rng = np.random.RandomState(0)
    X = rng.rand(80, 3)
    y = {"classification": (X[:, 0] + X[:, 1] > 1).astype(int), "regression": X @ [1.0, 2.0, 3.0]}.get(task)
    return estimator.fit(X, y) if y is not None else estimator.fit(X)


def test_has_importances_matches_the_fitted_estimators(rows):
    """The static rule against reality: fit every listed estimator that builds with no arguments on a small data set
    and look for feature_importances_ or coef_."""
    checked, mismatched, unfittable = 0, [], []
    for name, row in rows.items():
        if row["needs_arguments"]:
            continue
        estimator = build_estimator("m", name, {}, random_state=0, threads=1)
        try:
            with warnings.catch_warnings(), threadpool_limits(1):  # OpenMP on a loaded machine: seconds per fit
                warnings.simplefilter("ignore")
                _fit_small(estimator, row["task"])
        except ValueError:  # needs other data: IsotonicRegression one feature, CCA fewer components, ...
            unfittable.append(name)
            continue
        checked += 1
        # Histogram gradient boosting: the split gains its fitted trees record (explanations).
        actual = hasattr(estimator, "feature_importances_") or hasattr(estimator, "coef_") \
            or hasattr(estimator, "_predictors")
        if actual != row["has_importances"]:
            mismatched.append(name)
        assert hasattr(estimator, "predict") == row["can_score"], name
        assert (row["task"] == "classification" and hasattr(estimator, "predict_proba")) \
            == row["predicts_probabilities"], name
    assert mismatched == []
    assert checked >= 100 and len(unfittable) <= 4, unfittable


def test_every_listed_name_resolves_to_its_class(rows):
    for name, row in rows.items():
        assert class_path(resolve_algorithm("m", name)) == row["class_path"], name
        assert class_path(resolve_algorithm("m", row["class_path"])) == row["class_path"], name


# --- short names beyond scikit-learn ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, path", [
    ("xgb_classifier", "xgboost.XGBClassifier"), ("xgb_regressor", "xgboost.XGBRegressor"),
    ("xgbrf_classifier", "xgboost.XGBRFClassifier"), ("lgbm_regressor", "lightgbm.LGBMRegressor"),
    ("lgbm_classifier", "lightgbm.LGBMClassifier"),
])
def test_xgboost_and_lightgbm_short_names_resolve(rows, name, path):
    cls = resolve_algorithm("m", name)
    assert f"{cls.__module__.split('.')[0]}.{cls.__name__}" == path == rows[name]["class_path"]


def test_short_names_of_packages_outside_the_allow_list_are_refused():
    with pytest.raises(ConfigurationError, match="'xgb_classifier' is from 'xgboost', outside the packages allowed"):
        resolve_algorithm("m", "xgb_classifier", allowed_packages=("sklearn",))
    assert not any(row["package"] == "xgboost" for row in catalog(("sklearn", "lightgbm")))


def test_xgboost_and_lightgbm_get_the_thread_budget_and_stay_quiet():
    xgb = build_estimator("m", "xgb_classifier", {"max_depth": 3}, random_state=4, threads=3)
    assert (xgb.n_jobs, xgb.verbosity, xgb.random_state, xgb.max_depth) == (3, 0, 4, 3)
    lgbm = build_estimator("m", "lgbm_regressor", {}, threads=2)
    assert (lgbm.n_jobs, lgbm.get_params()["verbose"]) == (2, -1)
    assert thread_budget({"threads_per_model": 5, "dbt_threads": 4}) == 5
    assert thread_budget({"dbt_threads": 10 ** 6}) == 1
    assert build_estimator("m", "xgb_classifier", {"n_jobs": 4}, threads=1).n_jobs == 4  # threads, given explicitly
    for bad in (-1, 0, 2.5):
        with pytest.raises(ConfigurationError, match=r"n_jobs=.* of LGBMClassifier counts threads; give a positive "
                                                     r"number.*meta.threads_per_model"):
            build_estimator("m", "lgbm_classifier", {"n_jobs": bad})


def test_lightgbm_fits_without_printing(capfd):
    rng = np.random.RandomState(1)
    X, y = rng.rand(200, 3), rng.rand(200)
    build_estimator("m", "lgbm_regressor", {"n_estimators": 5}, threads=1).fit(X, y)
    build_estimator("m", "xgb_regressor", {"n_estimators": 5}, threads=1).fit(X, y)
    out, err = capfd.readouterr()
    assert "LightGBM" not in out + err and "WARNING" not in out + err


# --- anomaly detection -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["isolation_forest", "one_class_svm", "sgd_one_class_svm", "elliptic_envelope",
                                  "local_outlier_factor"])
def test_outlier_detectors_are_anomaly_detection(name):
    estimator = build_estimator("m", name, {}, random_state=0)
    assert task_of(estimator) == "anomaly_detection"
    check_scorable("m", estimator)


def test_local_outlier_factor_gets_novelty_so_it_scores_new_rows():
    from sklearn.neighbors import LocalOutlierFactor

    rng = np.random.RandomState(2)
    X, new = rng.rand(100, 2), rng.rand(10, 2) * 3
    lof = build_estimator("m", "local_outlier_factor", {"n_neighbors": 10})
    assert lof.novelty is True
    offline = LocalOutlierFactor(n_neighbors=10, novelty=True).fit(X)
    np.testing.assert_array_equal(lof.fit(X).predict(new), offline.predict(new))
    assert build_estimator("m", "local_outlier_factor", {"novelty": True}).novelty is True


def test_local_outlier_factor_without_novelty_is_refused():
    from sklearn.neighbors import LocalOutlierFactor

    with pytest.raises(ConfigurationError, match=r"model 'm': LocalOutlierFactor with novelty=False can only label "
                                                 r"the rows it was fitted on.*remove 'novelty'"):
        build_estimator("m", "local_outlier_factor", {"novelty": False})
    with pytest.raises(ConfigurationError, match="novelty=False.*set novelty=True"):
        check_scorable("m", LocalOutlierFactor())  # a Python model's own estimator
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with pytest.raises(ConfigurationError, match="novelty=False"):
        check_scorable("m", make_pipeline(StandardScaler(), LocalOutlierFactor()))
