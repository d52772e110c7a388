"""Library versions recorded with a version are compared before unpickling (issue 13, security item (f))."""

import pytest

from dbt_learn import registry
from dbt_learn._library_check import check_loadable, incompatibility
from dbt_learn.errors import ScoringError

RUNNING = {"scikit-learn": "1.5.2", "numpy": "2.1.3", "xgboost": "2.1.1"}


def running(library):
    return RUNNING.get(library)


@pytest.mark.parametrize("recorded", [
    {"scikit-learn": "1.5.0", "numpy": "2.0.1"},  # another patch release, another numpy minor
    {"scikit-learn": "1.5.2", "xgboost": "2.0.3"},
    '{"scikit-learn": "1.5.2rc1"}',  # jsonb arrives as text
    {"dbt_learn_runtime": "0.7.0", "python": "3.11.2"},  # nothing this check compares
    None,  # a version that recorded no libraries
])
def test_compatible_versions_load(recorded):
    assert incompatibility(recorded, running) is None
    check_loadable("m", 3, recorded, running)


@pytest.mark.parametrize("recorded, problem", [
    ({"scikit-learn": "1.0.2"}, ("scikit-learn", "1.0.2", "1.5.2", 2)),
    ({"scikit-learn": "1.6.0"}, ("scikit-learn", "1.6.0", "1.5.2", 2)),
    ({"scikit-learn": "1.5.2", "numpy": "1.26.4"}, ("numpy", "1.26.4", "2.1.3", 1)),
    ({"scikit-learn": "1.5.2", "xgboost": "1.7.6"}, ("xgboost", "1.7.6", "2.1.1", 1)),
    ({"scikit-learn": "1.5.2", "lightgbm": "4.5.0"}, ("lightgbm", "4.5.0", None, 1)),  # not installed here
    ({"scikit-learn": "garbage"}, ("scikit-learn", "garbage", "1.5.2", 2)),
])
def test_incompatible_versions_are_named(recorded, problem):
    assert incompatibility(recorded, running) == problem


def test_the_message_names_model_version_both_versions_and_what_to_do():
    with pytest.raises(ScoringError) as raised:
        check_loadable("churn", 4, {"scikit-learn": "1.0.2"}, running)
    assert str(raised.value) == (
        "model 'churn': version 4 was trained with scikit-learn 1.0.2, but this runtime has scikit-learn 1.5.2; "
        "a pickled estimator does not load safely across scikit-learn minor releases. "
        "Retrain it: dbt run --full-refresh -s churn, or deploy a version trained with scikit-learn 1.0."
    )
    with pytest.raises(ScoringError, match="this runtime has no lightgbm installed; .* lightgbm 4\\."):
        check_loadable("churn", 4, {"lightgbm": "4.5.0"}, running)


class Plpy:
    def __init__(self, library_versions):
        self.library_versions = library_versions
        self.artifact_reads = 0

    def prepare(self, sql, types):
        return sql

    def execute(self, plan, args=()):
        if "has_schema_privilege" in plan:
            return [{"ok": True}]
        if "from dbt_learn.model_versions" in plan:
            assert "library_versions" in plan  # read in the query load_version already runs
            return [{"task": "regression", "features": "[]", "classes": None, "threshold": None,
                     "artifact_sha256": "sha", "preprocessing": None, "library_versions": self.library_versions}]
        if "select artifact" in plan:
            self.artifact_reads += 1
            return [{"artifact": b"x"}]
        raise AssertionError(plan)


@pytest.fixture
def registry_state(monkeypatch):
    monkeypatch.setattr(registry, "_estimators", registry.OrderedDict())
    monkeypatch.setattr(registry, "_plans", {})
    monkeypatch.setattr(registry.serialization, "load", lambda artifact, sha256, name, **_: "estimator")


def test_load_version_refuses_before_reading_or_unpickling_the_artifact(registry_state):
    plpy = Plpy('{"scikit-learn": "0.1.0"}')
    with pytest.raises(ScoringError, match="version 2 was trained with scikit-learn 0.1.0"):
        registry.load_version(plpy, "s", "m", 2)
    assert plpy.artifact_reads == 0 and not registry._estimators


def test_load_version_loads_a_version_trained_with_this_runtime(registry_state):
    from dbt_learn._library_check import running_version

    plpy = Plpy(f'{{"scikit-learn": "{running_version("scikit-learn")}"}}')
    estimator, meta = registry.load_version(plpy, "s", "m", 2)
    assert estimator == "estimator" and "library_versions" not in meta and plpy.artifact_reads == 1


def test_the_runtime_records_xgboost_and_lightgbm_and_finds_them_again_at_load():
    """xgboost ships as xgboost-cpu here: a version must record it under its import name, and the load check must
    find the same version running (else every xgboost version would be refused as trained without it)."""
    from dbt_learn._in_database import library_versions
    from dbt_learn._library_check import incompatibility, running_version

    recorded = library_versions()
    assert recorded["xgboost"] == running_version("xgboost") is not None
    assert recorded["lightgbm"] == running_version("lightgbm") is not None
    assert incompatibility(recorded) is None
    assert incompatibility({**recorded, "xgboost": "2.1.0"})[0] == "xgboost"
