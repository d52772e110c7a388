"""The prediction baseline recorded with each version (evaluation['prediction_stats']): statistics of the holdout
predictions, or of the training rows without a holdout, keyed by the scores column each output becomes."""

import json
import re

import jinja2
import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.cluster import KMeans
from sklearn.linear_model import LinearRegression, LogisticRegression, RidgeClassifier

from dbt_learn import compute_metrics, fit_with_holdout
from dbt_learn.evaluation import split_rows
from dbt_learn.training import numeric_training_stats, probability_column_names, training_prediction_stats

from ..conftest import REPO

SAME = {"rel": 1e-12, "abs": 1e-12}


def _regression_rows(n=200):
    X = np.random.default_rng(0).normal(size=(n, 2))
    return X, X @ [1.0, -2.0] + 3


def _assert_same_stats(entry, expected):
    """The recorded entry is numeric_training_stats' plus the rows it describes (and the class)."""
    assert set(entry) - set(expected) <= {"source", "class"}
    for key, value in expected.items():
        assert entry[key] == (value if value is None else pytest.approx(value, **SAME)), key


def test_a_regressor_records_its_holdout_predictions_under_prediction():
    X, y = _regression_rows()
    fit = fit_with_holdout("m", LinearRegression(), X, y, "regression", holdout_size=0.25, random_state=0)
    fit_rows, holdout = split_rows("m", y, "regression", len(X), holdout_size=0.25, random_state=0)
    predicted = LinearRegression().fit(X[fit_rows], y[fit_rows]).predict(X[holdout])
    baseline = fit.evaluation["prediction_stats"]
    assert list(baseline) == ["prediction"]
    assert baseline["prediction"]["source"] == "holdout" and baseline["prediction"]["count"] == 50
    expected = numeric_training_stats(["prediction"], predicted[:, None])["prediction"]
    _assert_same_stats(baseline["prediction"], expected)


def test_without_a_holdout_the_served_estimator_describes_its_training_rows():
    X, y = _regression_rows(120)
    fit = fit_with_holdout("m", LinearRegression(), X, y, "regression", holdout_size=0)
    entry = fit.evaluation["prediction_stats"]["prediction"]
    assert entry["source"] == "training rows" and entry["count"] == 120
    assert entry["mean"] == pytest.approx(float(np.mean(fit.estimator.predict(X))), **SAME)


def test_an_estimator_fitted_elsewhere_is_described_on_the_rows_given():
    """For Python models whose code fitted the estimator: no holdout exists, so the rows dbt.ref() loaded."""
    X, _ = _regression_rows(80)
    y = np.where(X[:, 0] > 0, "up", "down")
    baseline = training_prediction_stats("classification", LogisticRegression().fit(X, y), X)
    assert set(baseline) == {"prediction", "probability_down", "probability_up"}
    assert {entry["source"] for entry in baseline.values()} == {"training rows"}
    assert training_prediction_stats("classification", LogisticRegression().fit(X, y), None) == {}


def test_a_classifier_records_class_shares_and_one_histogram_per_probability_column():
    X, _ = _regression_rows(200)
    y = (X[:, 0] > 0).astype(int)  # class indexes, as SQL models send them
    fit = fit_with_holdout("m", LogisticRegression(), X, y, "classification", holdout_size=0.25, random_state=0,
                           class_names=["No way", "Yes!"])
    baseline = fit.evaluation["prediction_stats"]
    assert list(baseline) == ["prediction", "probability_no_way", "probability_yes"]
    fit_rows, holdout = split_rows("m", y, "classification", 200, holdout_size=0.25, random_state=0)
    evaluated = LogisticRegression().fit(X[fit_rows], y[fit_rows])
    shares = np.bincount(evaluated.predict(X[holdout]), minlength=2) / 50
    assert baseline["prediction"]["categories"] == pytest.approx({"No way": shares[0], "Yes!": shares[1]})
    assert baseline["prediction"]["count"] == 50 and "quantiles" not in baseline["prediction"]
    expected = numeric_training_stats(["p"], evaluated.predict_proba(X[holdout])[:, 1:])["p"]
    _assert_same_stats(baseline["probability_yes"], expected)
    assert baseline["probability_yes"]["class"] == "Yes!"


def test_a_python_models_classes_are_named_by_their_text():
    X, _ = _regression_rows(100)
    y = np.where(X[:, 0] > 0, "churned", "stayed")
    fit = fit_with_holdout("m", LogisticRegression(), X, y, "classification", holdout_size=0)
    baseline = fit.evaluation["prediction_stats"]
    assert set(baseline) == {"prediction", "probability_churned", "probability_stayed"}
    assert set(baseline["prediction"]["categories"]) == {"churned", "stayed"}


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::sklearn.exceptions.UndefinedMetricWarning")
def test_a_class_the_evaluated_estimator_never_saw_has_probability_zero():
    X = np.arange(67, dtype=float)[:, None]
    y = np.array([0, 1] * 30 + [2] * 7)  # class 2 only in the last (time-ordered) rows: the holdout
    fit = fit_with_holdout("m", LogisticRegression(), X, y, "classification", holdout_size=0.1, split="time",
                           order=np.arange(67), class_names=["a", "b", "c"])
    baseline = fit.evaluation["prediction_stats"]
    assert list(fit.estimator.classes_) == [0, 1, 2]  # the served estimator knows all three
    assert set(baseline) == {"prediction", "probability_a", "probability_b", "probability_c"}
    assert baseline["probability_c"]["max"] == 0 and baseline["probability_c"]["frequencies"] == [1.0]


def test_a_classifier_without_predict_proba_records_class_shares_only():
    X, _ = _regression_rows(100)
    fit = fit_with_holdout("m", RidgeClassifier(), X, (X[:, 0] > 0).astype(int), "classification",
                           holdout_size=0.2, random_state=0, class_names=["n", "y"])
    assert list(fit.evaluation["prediction_stats"]) == ["prediction"]


def test_a_clusterer_records_its_cluster_labels_as_numbers():
    X, _ = _regression_rows(90)
    fit = fit_with_holdout("m", KMeans(3, n_init=2, random_state=0), X, None, "clustering", holdout_size=0)
    entry = fit.evaluation["prediction_stats"]["prediction"]
    assert entry["count"] == 90 and entry["min"] == 0 and entry["max"] == 2


class _Overflowing(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X):
        return np.where(np.arange(len(X)) % 4 == 0, np.inf, X[:, 0])


def test_non_finite_predictions_count_as_nulls_so_the_baseline_is_valid_json():
    X, y = _regression_rows(40)
    fit = fit_with_holdout("m", _Overflowing(), X, y, "regression", holdout_size=0)
    entry = fit.evaluation["prediction_stats"]["prediction"]
    assert (entry["count"], entry["nulls"]) == (40, 10)
    json.dumps(fit.evaluation, allow_nan=False)  # Postgres jsonb has no Infinity/NaN


def test_metrics_are_the_same_with_or_without_precomputed_outputs():
    X, _ = _regression_rows(100)
    y = (X[:, 1] > 0).astype(int)
    model = LogisticRegression().fit(X, y)
    given = compute_metrics("classification", model, X, y,
                            {"predicted": model.predict(X), "proba": model.predict_proba(X)})
    assert given == compute_metrics("classification", model, X, y)


# --- probability column names: one rule, two copies (Python here, Jinja for ml_score) --------------------------------

class _Return(Exception):
    def __init__(self, value):
        self.value = value


def _jinja_probability_column_names(labels):
    """The macro of macros/scoring/prediction_columns_sql.sql, rendered with plain Jinja."""
    def give_back(value):
        raise _Return(value)

    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    env.globals.update({"return": give_back, "modules": type("modules", (), {"re": re})})
    macro = env.from_string((REPO / "macros/scoring/prediction_columns_sql.sql").read_text()).module
    try:
        macro.probability_column_names(labels)
    except _Return as returned:
        return returned.value
    raise AssertionError("the macro returned nothing")


@pytest.mark.parametrize("labels", [["High Risk", "low"], ["False", "True"], ["a-b", "a b"], ["1", "2", "10"]])
def test_probability_column_names_match_the_scoring_macro(labels):
    assert probability_column_names(labels) == _jinja_probability_column_names(labels)


def test_clashing_probability_names_fall_back_to_positions():
    assert probability_column_names(["a-b", "a b"]) == ["probability_0", "probability_1"]
    assert probability_column_names(["High Risk", "low"]) == ["probability_high_risk", "probability_low"]
