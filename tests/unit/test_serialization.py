"""Artifacts: skops where the estimator allows it, a pickle otherwise, and a pickle (or a skops file with raw tree
storage) of a Python model is not loaded once Python models are off (docs/security.md, "Artifacts")."""

import hashlib
import pickle

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from dbt_learn import preprocessing, serialization
from dbt_learn._trusted_types import RAW_INDEX_TYPES, trusted_types
from dbt_learn.errors import DbtLearnError, ScoringError

X = np.random.RandomState(0).rand(60, 3)
Y = (X[:, 0] > 0.5).astype(int)
MARKER = []


def ran(text):  # what a hostile __reduce__ calls at load: proves that code ran
    MARKER.append(text)
    return LogisticRegression()


class Sneaky(LogisticRegression):
    """A Python model's estimator whose pickle calls code when it is loaded."""

    def __reduce__(self):
        return (ran, ("code ran at load",))


def _pipeline():
    features = [{"name": "a", "type": "float8", "kind": "numeric"}, {"name": "c", "type": "text",
                                                                     "kind": "categorical"}]
    import pandas as pd

    frame = pd.DataFrame({"a": X[:, 0], "c": np.where(X[:, 1] > 0.5, "x", "y")})
    estimator = preprocessing.build("m", LogisticRegression(), features, preprocessing.options("m", "auto"))
    return estimator.fit(frame, Y), frame


@pytest.mark.parametrize("estimator", [LogisticRegression(), RandomForestClassifier(n_estimators=5, random_state=0),
                                       HistGradientBoostingClassifier(max_iter=5)], ids=type)
def test_sklearn_estimators_are_saved_with_skops_and_score_the_same(estimator):
    estimator.fit(X, Y)
    artifact, sha256 = serialization.dump(estimator, "m")
    assert serialization.artifact_format(artifact) == "skops"
    assert sha256 == hashlib.sha256(artifact).hexdigest()
    for language, allowed in (("sql", False), ("python", True)):
        loaded = serialization.load(artifact, sha256, "m", version=1, language=language,
                                    python_models_allowed=allowed)
        np.testing.assert_array_equal(loaded.predict_proba(X), estimator.predict_proba(X))


def test_a_dbt_learn_preprocessing_pipeline_is_saved_with_skops():
    estimator, frame = _pipeline()
    artifact, sha256 = serialization.dump(estimator, "m")
    assert serialization.artifact_format(artifact) == "skops"
    loaded = serialization.load(artifact, sha256, "m", version=1, language="python", python_models_allowed=False)
    np.testing.assert_array_equal(loaded.predict_proba(frame), estimator.predict_proba(frame))


def test_a_class_skops_does_not_trust_stays_a_pickle_and_is_refused_once_python_models_are_off():
    MARKER.clear()
    artifact, sha256 = serialization.dump(Sneaky().fit(X, Y), "m")
    assert serialization.artifact_format(artifact) == "pickle"
    asked = []
    with pytest.raises(ScoringError) as refused:
        serialization.load(artifact, sha256, "m", version=3, language="python",
                           python_models_allowed=lambda: asked.append(1) or False)
    assert str(refused.value) == (
        "model 'm': version 3 was trained by a Python model and its artifact is a pickle, which can run code when "
        "loaded; this database no longer allows Python models, so it is not loaded. Retrain it as a SQL ml_train "
        "model, or ask the database admin to allow Python models (dbt_learn.install with allow_python_models: "
        "true).")
    assert MARKER == [] and asked == [1]
    serialization.load(artifact, sha256, "m", version=3, language="python", python_models_allowed=True)
    assert MARKER == ["code ran at load"]  # the same bytes do run code: what the refusal prevents


def test_an_old_pickle_of_a_sql_model_still_loads_without_asking():
    estimator = LogisticRegression().fit(X, Y)
    artifact = pickle.dumps(estimator, protocol=4)
    sha256 = hashlib.sha256(artifact).hexdigest()
    loaded = serialization.load(artifact, sha256, "m", version=1, language="sql",
                                python_models_allowed=lambda: pytest.fail("not asked for a SQL model's version"))
    np.testing.assert_array_equal(loaded.predict(X), estimator.predict(X))


def test_raw_tree_storage_of_a_python_model_is_refused_once_python_models_are_off():
    artifact, sha256 = serialization.dump(RandomForestClassifier(n_estimators=3, random_state=0).fit(X, Y), "m")
    with pytest.raises(ScoringError, match=r"model 'm': version 2 was trained by a Python model and its artifact "
                                           r"holds tree node storage \(sklearn.tree._tree.Tree\)"):
        serialization.load(artifact, sha256, "m", version=2, language="python", python_models_allowed=False)
    assert serialization.load(artifact, sha256, "m", version=2, language="sql", python_models_allowed=False)


def test_a_skops_file_naming_a_type_outside_the_list_is_refused():
    import skops.io as sio

    artifact = sio.dumps(Sneaky().fit(X, Y))
    sha256 = hashlib.sha256(artifact).hexdigest()
    with pytest.raises(ScoringError, match=r"version 4's artifact names types this runtime does not trust "
                                           r"\(tests.unit.test_serialization.Sneaky\)"):
        serialization.load(artifact, sha256, "m", version=4, language="sql")


def test_the_trusted_list_is_classes_of_the_runtime_not_functions():
    names = set(trusted_types())
    assert RAW_INDEX_TYPES <= names
    assert {"sklearn.linear_model._logistic.LogisticRegression", "sklearn.pipeline.Pipeline",
            "dbt_learn._preprocessing_parts.CategoryEncoder", "dbt_learn.recommendation.Recommender"} <= names
    assert not {name for name in names if name.startswith(("builtins.eval", "builtins.exec", "os.", "posix.",
                                                            "subprocess.", "pickle.", "joblib.", "functools."))}
    packages = ("sklearn", "xgboost", "lightgbm", "dbt_learn", "builtins", "collections", "numpy", "scipy")
    assert all(name.split(".")[0] in packages for name in names)


def test_a_tampered_or_unknown_artifact_is_refused():
    artifact, sha256 = serialization.dump(LogisticRegression().fit(X, Y), "m")
    with pytest.raises(DbtLearnError, match=r"model 'm': the stored artifact's sha256 is [0-9a-f]{64} but the "
                                            r"registry recorded .*; the artifact was altered. Retrain the model."):
        serialization.load(artifact + b"x", sha256, "m", version=1, language="sql")
    junk = b"GARBAGE"
    with pytest.raises(ScoringError, match="version 1's artifact is neither a skops file nor a pickle"):
        serialization.load(junk, hashlib.sha256(junk).hexdigest(), "m", version=1, language="sql")


@pytest.mark.parametrize("algorithm", ["xgb_classifier", "lgbm_classifier"])
def test_xgboost_and_lightgbm_are_saved_with_skops(algorithm):
    from dbt_learn.estimators import build_estimator

    pytest.importorskip(algorithm.split("_")[0].replace("xgb", "xgboost").replace("lgbm", "lightgbm"))
    estimator = build_estimator("m", algorithm, {"n_estimators": 5}, 0).fit(X, Y)
    artifact, sha256 = serialization.dump(estimator, "m")
    assert serialization.artifact_format(artifact) == "skops"
    loaded = serialization.load(artifact, sha256, "m", version=1, language="python", python_models_allowed=False)
    np.testing.assert_allclose(loaded.predict_proba(X), estimator.predict_proba(X))


def test_a_recommender_is_saved_with_skops():
    from dbt_learn.recommendation import build_interactions, fit_recommender

    users = np.array([f"u{n % 12}" for n in range(80)], dtype=object)
    items = np.array([f"i{(n * 7) % 15}" for n in range(80)], dtype=object)
    interactions = build_interactions("m", users, items, None, user_column="u", item_column="i", rating_column=None)
    recommender, _ = fit_recommender("m", "truncated_svd", {"n_components": 3}, 0, interactions,
                                     interactions.matrix, 5)
    artifact, sha256 = serialization.dump(recommender, "m")
    assert serialization.artifact_format(artifact) == "skops"
    loaded = serialization.load(artifact, sha256, "m", version=1, language="sql")
    np.testing.assert_allclose(loaded.scores([0, 1]), recommender.scores([0, 1]))


@pytest.mark.parametrize("algorithm", ["birch", "bisecting_k_means", "feature_agglomeration"])
def test_what_skops_cannot_rebuild_with_the_list_stays_a_pickle(algorithm):
    from dbt_learn.estimators import build_estimator

    estimator = build_estimator("m", algorithm, {"n_clusters": 2}, 0).fit(X)
    artifact, _ = serialization.dump(estimator, "m")
    assert serialization.artifact_format(artifact) == "pickle"
