"""The registry's per-backend estimator cache: bounded per model and in all, the serving version kept."""

import pytest

from dbt_learn import registry


class RegistryPlpy:
    """A plpy answering load_version's queries for any version: USAGE granted, one artifact per version."""

    def __init__(self):
        self.artifact_reads = []

    def prepare(self, sql, types):
        return sql

    def execute(self, plan, args=()):
        if "has_schema_privilege" in plan:
            return [{"ok": True}]
        if "from dbt_learn.model_versions" in plan:
            return [{"task": "regression", "features": "[]", "classes": None, "threshold": None,
                     "artifact_sha256": f"sha-{args[2]}", "preprocessing": None}]
        if "select artifact" in plan:
            self.artifact_reads.append(tuple(args))
            return [{"artifact": f"{args[0]}.{args[1]} v{args[2]}"}]
        raise AssertionError(plan)


@pytest.fixture
def empty_cache(monkeypatch):
    monkeypatch.setattr(registry, "_estimators", registry.OrderedDict())
    monkeypatch.setattr(registry, "_plans", {})
    monkeypatch.setattr(registry.serialization, "load", lambda artifact, sha256, name, **_: ("estimator", artifact))
    return RegistryPlpy()


def test_the_cache_keeps_the_last_versions_used_per_model(empty_cache):
    plpy = empty_cache
    for version in (1, 2, 3):
        assert registry.load_version(plpy, "s", "m", version)[0] == ("estimator", f"s.m v{version}")
    assert list(registry._estimators) == [("s", "m", 2), ("s", "m", 3)]
    registry.load_version(plpy, "s", "m", 2)  # a hit: no artifact read, now the most recently used
    assert plpy.artifact_reads == [("s", "m", 1), ("s", "m", 2), ("s", "m", 3)]
    registry.load_version(plpy, "s", "m", 4)
    assert list(registry._estimators) == [("s", "m", 2), ("s", "m", 4)]
    registry.load_version(plpy, "s", "other", 1)  # another model's versions are not evicted for this one
    assert set(registry._estimators) == {("s", "m", 2), ("s", "m", 4), ("s", "other", 1)}
    assert registry.cached_version("s", "m", 3) is None
    estimator, meta = registry.cached_version("s", "m", 4)
    assert estimator == ("estimator", "s.m v4") and meta["artifact_sha256"] == "sha-4"


def test_the_serving_version_stays_cached_while_other_versions_come_and_go(empty_cache):
    plpy = empty_cache
    registry.load_version(plpy, "s", "m", 5)
    for version in range(1, 5):  # older versions scored once each (a pinned replay), serving v5 between them
        registry.load_version(plpy, "s", "m", version)
        assert registry.serving_model(plpy, "s", "m", (True, 5, "sha-5"))[0] == ("estimator", "s.m v5")
    assert plpy.artifact_reads.count(("s", "m", 5)) == 1
    assert len([key for key in registry._estimators if key[:2] == ("s", "m")]) == registry._VERSIONS_PER_MODEL


def test_the_cache_holds_at_most_max_cached_versions_in_all(empty_cache):
    plpy = empty_cache
    for model in range(registry._MAX_CACHED + 5):
        registry.load_version(plpy, "s", f"m{model}", 1)
    assert len(registry._estimators) == registry._MAX_CACHED
    assert ("s", "m0", 1) not in registry._estimators  # least recently used first
    assert ("s", f"m{registry._MAX_CACHED + 4}", 1) in registry._estimators
