"""Refuse to unpickle a version whose recorded library versions cannot load safely in this runtime.

``model_versions.library_versions`` records the versions a version was trained with (``_in_database.library_versions``).
A pickled estimator is only portable within one scikit-learn minor release, and within one major release of numpy,
xgboost and lightgbm; load_version checks these before unpickling (a cached estimator was checked when loaded).
"""

import functools
import json
import re

from .errors import ScoringError

# library -> how many leading version parts must match
_RULES = (("scikit-learn", 2), ("xgboost", 1), ("lightgbm", 1), ("numpy", 1))


# Distributions by import name: xgboost ships as xgboost or as its CPU-only build xgboost-cpu.
_DISTRIBUTIONS = {"xgboost": ("xgboost", "xgboost-cpu")}


@functools.lru_cache(maxsize=None)
def running_version(library):
    """The installed version of ``library`` in this runtime, or None when it is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    for distribution in _DISTRIBUTIONS.get(library, (library,)):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return None


def _release(text, parts):
    match = re.match(r"(\d+(?:\.\d+)*)", str(text or "").strip())
    if not match:
        return None
    numbers = match.group(1).split(".")
    return tuple(int(n) for n in numbers[:parts]) if len(numbers) >= parts else None


def incompatibility(recorded, running=running_version):
    """``(library, recorded, running, parts)`` of the first library that cannot load safely, else None.

    ``recorded``: the version's library_versions (dict or JSON text; None for a version that recorded none, which is
    not checked). A library the version did not record is not checked; one it recorded that this runtime lacks is
    incompatible (running None)."""
    if isinstance(recorded, str):
        recorded = json.loads(recorded)
    if not isinstance(recorded, dict):
        return None
    for library, parts in _RULES:
        was = recorded.get(library)
        if was is None:
            continue
        now = running(library)
        want = _release(was, parts)
        if now is None or want is None or want != _release(now, parts):
            return library, str(was), now, parts
    return None


def check_loadable(name, version, recorded, running=running_version):
    """Raise ScoringError naming the model, version and both library versions when the version cannot load safely."""
    problem = incompatibility(recorded, running)
    if problem is None:
        return
    library, was, now, parts = problem
    series = ".".join(was.split(".")[:parts])
    release = "minor release" if parts == 2 else "major release"
    has = f"{library} {now}" if now else f"no {library} installed"
    raise ScoringError(
        f"model '{name}': version {version} was trained with {library} {was}, but this runtime has {has}; "
        f"a pickled estimator does not load safely across {library} {release}s. "
        f"Retrain it: dbt run --full-refresh -s {name}, or deploy a version trained with {library} {series}."
    )
