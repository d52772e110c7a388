"""predict_batch evaluates a classifier once: its classes come from its probabilities, and they must be exactly the
classes estimator.predict gives (ties included); a Pipeline's preprocessing runs once."""

import numpy as np
import pytest

from dbt_learn import predict_batch, scoring


def _data(n_classes, seed=0, n_rows=600):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 4))
    score = X @ np.array([1.5, -1.0, 0.5, 0.0]) + rng.normal(scale=0.7, size=n_rows)
    y = np.digitize(score, np.quantile(score, np.linspace(0, 1, n_classes + 1)[1:-1]))
    return X, y


def _classifiers():
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis, QuadraticDiscriminantAnalysis
    from sklearn.ensemble import (BaggingClassifier, ExtraTreesClassifier, GradientBoostingClassifier,
                                  HistGradientBoostingClassifier, RandomForestClassifier)
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    return {
        "logistic": LogisticRegression(max_iter=500),
        "logistic_pipeline": make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)),
        "imputed_logistic_pipeline": make_pipeline(SimpleImputer(add_indicator=True, keep_empty_features=True),
                                                   StandardScaler(), LogisticRegression(max_iter=500)),
        "hist_gradient_boosting": HistGradientBoostingClassifier(max_iter=20, random_state=0),
        "gradient_boosting": GradientBoostingClassifier(n_estimators=10, random_state=0),
        "random_forest": RandomForestClassifier(n_estimators=10, random_state=0),
        "extra_trees": ExtraTreesClassifier(n_estimators=10, random_state=0),
        "bagging": BaggingClassifier(n_estimators=5, random_state=0),
        "tree": DecisionTreeClassifier(max_depth=4, random_state=0),
        "gaussian_nb": GaussianNB(),
        "lda": LinearDiscriminantAnalysis(),
        "qda": QuadraticDiscriminantAnalysis(),
        "mlp": MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0),
        "calibrated": CalibratedClassifierCV(LogisticRegression(), cv=3),
    }


def _check(estimator, X):
    """predict_batch's classes and probabilities against the estimator's own predict and predict_proba."""
    _, class_index, probabilities = predict_batch("m", estimator, X, "classification")
    np.testing.assert_array_equal(np.asarray(estimator.classes_)[class_index], estimator.predict(X))
    np.testing.assert_allclose(probabilities, estimator.predict_proba(X), rtol=0, atol=1e-15)
    _, without, none = predict_batch("m", estimator, X, "classification", with_probabilities=False)
    assert none is None
    np.testing.assert_array_equal(without, class_index)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("name", sorted(_classifiers()))
def test_classes_from_probabilities_equal_predict(name, n_classes):
    X, y = _data(n_classes)
    estimator = _classifiers()[name].fit(X[:400], y[:400])
    _check(estimator, X[400:])
    if not hasattr(estimator, "steps"):
        assert scoring.labels_follow_probabilities(estimator), name


def test_a_listed_classifier_is_evaluated_once_and_a_pipeline_preprocesses_once(monkeypatch):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data(3)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    expected = pipeline.predict(X)
    calls = []
    for step, method in ((pipeline[0], "transform"), (pipeline[-1], "predict"), (pipeline[-1], "predict_proba")):
        original = getattr(step, method)
        monkeypatch.setattr(step, method, lambda *a, _o=original, _m=method, **k: calls.append(_m) or _o(*a, **k))
    _, class_index, _ = predict_batch("m", pipeline, X, "classification")
    np.testing.assert_array_equal(pipeline.classes_[class_index], expected)
    assert calls == ["transform", "predict_proba"]


def test_exact_ties_are_resolved_as_predict_resolves_them():
    from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    constant = np.zeros((8, 2))
    # Balanced classes on rows that cannot be told apart: every probability ties exactly.
    two, three = np.array([0, 1] * 4), np.array([0, 1, 2, 0, 1, 2, 0, 1])[:8]
    # GradientBoosting predicts class 1 at a raw score of exactly 0 (>= 0), where the probabilities are [0.5, 0.5]
    # and their argmax is class 0: the near-tie rows must be predicted again.
    boosting = GradientBoostingClassifier(n_estimators=3).fit(constant, two)
    assert boosting.predict_proba(constant[:1]).tolist() == [[0.5, 0.5]] and boosting.predict(constant[:1]) == [1]
    _check(boosting, constant)
    _check(LogisticRegression(fit_intercept=False).fit(np.vstack([constant, [[1, 1], [-1, -1]]]),
                                                       [*two, 1, 0]), constant)
    _check(DecisionTreeClassifier().fit(constant[:6], three[:6]), constant)
    _check(HistGradientBoostingClassifier(max_iter=3).fit(constant[:6], three[:6]), constant)


class _LastOfTies:
    """A classifier whose predict picks the last of the classes within 1e-10 of the highest probability, as a score
    that rounding brought together would (np.argmax of the probabilities picks the first)."""

    classes_ = np.array([10, 20, 30])

    def predict_proba(self, X):
        return np.asarray(X, dtype=np.float64)

    def predict(self, X):
        X = np.asarray(X)
        top = X >= X.max(axis=1, keepdims=True) - 1e-10
        return self.classes_[X.shape[1] - 1 - np.argmax(top[:, ::-1], axis=1)]


def test_near_ties_of_a_listed_classifier_go_back_to_predict(monkeypatch):
    stub = _LastOfTies()
    monkeypatch.setattr(scoring, "LABELS_FROM_PROBABILITIES",
                        scoring.LABELS_FROM_PROBABILITIES | {f"{__name__}._LastOfTies"})
    X = np.array([[0.2, 0.5, 0.3], [0.4, 0.2, 0.4], [1 / 3, 1 / 3, 1 / 3], [0.5, 0.5 - 1e-12, 1e-12]])
    _, class_index, _ = predict_batch("m", stub, X, "classification")
    assert stub.classes_[class_index].tolist() == stub.predict(X).tolist() == [20, 30, 30, 20]


@pytest.mark.filterwarnings("ignore")
def test_classifiers_not_listed_are_predicted_with_predict():
    from sklearn.svm import SVC

    X, y = _data(2, seed=3, n_rows=300)
    y[::7] = 1 - y[::7]  # noise, so Platt-scaled probabilities and the SVM's decision disagree on some rows
    svc = SVC(probability=True, random_state=0).fit(X[:200], y[:200])
    assert not scoring.labels_follow_probabilities(svc)
    _check(svc, X[200:])


def test_an_outlier_pipeline_preprocesses_once_and_scores_as_before():
    from sklearn.ensemble import IsolationForest
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _ = _data(2)
    pipeline = make_pipeline(StandardScaler(), IsolationForest(n_estimators=20, random_state=0)).fit(X)
    scores, flagged, _ = predict_batch("m", pipeline, X, "anomaly_detection")
    np.testing.assert_array_equal(flagged, (pipeline.predict(X) == -1).astype(np.int32))
    np.testing.assert_array_equal(scores, -pipeline.score_samples(X))


def test_a_threshold_still_decides_from_the_probability_of_the_second_class():
    from sklearn.linear_model import LogisticRegression

    X, y = _data(2)
    model = LogisticRegression().fit(X, y)
    _, class_index, probabilities = predict_batch("m", model, X, "classification", threshold=0.8)
    np.testing.assert_array_equal(class_index, (model.predict_proba(X)[:, 1] >= 0.8).astype(np.int32))
    assert probabilities.shape == (len(X), 2)


def _imputing_pipeline(X, y, **imputer):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LinearRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps = [("impute", SimpleImputer(**imputer)), ("scale", StandardScaler()), ("model", LinearRegression())]
    return Pipeline(steps).fit(X, y)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("imputer", [{"add_indicator": True, "keep_empty_features": True},
                                     {"add_indicator": False, "keep_empty_features": True},
                                     {"add_indicator": True, "keep_empty_features": False, "strategy": "median"}])
@pytest.mark.parametrize("training_nulls", [True, False])
def test_a_leading_imputer_is_skipped_on_a_batch_without_nulls_with_the_same_predictions(imputer, training_nulls):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 3.0])
    train = X.copy()
    if training_nulls:
        train[rng.random(train.shape) < 0.1] = np.nan
        train[:, 2] = np.nan  # an empty column: kept as 0 or dropped, as the imputer says
    pipeline = _imputing_pipeline(train, y, **imputer)
    clean, dirty = X[:50], X[50:100].copy()
    dirty[::3, 1] = np.nan
    for batch in (clean, dirty):
        prediction, _, _ = predict_batch("m", pipeline, batch, "regression")
        np.testing.assert_array_equal(prediction, pipeline.predict(batch))
    used = scoring._imputed(pipeline[0], clean)[0]
    assert used == (0 if not imputer["keep_empty_features"] and training_nulls else 1)
    assert scoring._imputed(pipeline[0], dirty)[0] == 0


def test_the_imputer_is_not_run_on_a_batch_without_nulls(monkeypatch):
    from sklearn.impute import SimpleImputer

    X = np.random.default_rng(2).normal(size=(100, 3))
    pipeline = _imputing_pipeline(np.where(X > 1.5, np.nan, X), X.sum(axis=1), add_indicator=True,
                                  keep_empty_features=True)
    expected = pipeline.predict(X)
    monkeypatch.setattr(SimpleImputer, "transform", lambda *a, **k: pytest.fail("the imputer ran"))
    np.testing.assert_array_equal(predict_batch("m", pipeline, X, "regression")[0], expected)


def test_an_infinite_feature_is_refused_as_the_imputer_refuses_it():
    from dbt_learn import ScoringError

    X = np.random.default_rng(3).normal(size=(50, 2))
    pipeline = _imputing_pipeline(X, X[:, 0], add_indicator=True, keep_empty_features=True)
    X[4, 1] = np.inf
    with pytest.raises(ValueError):
        pipeline.predict(X)
    with pytest.raises(ScoringError, match="predict failed"):
        predict_batch("m", pipeline, X, "regression")
