"""Which estimator a model asks for, and with which hyperparameters.

An algorithm is named either by a short name (``logistic_regression``, ``xgb_classifier``, ``lgbm_regressor``), or by a
class path (``sklearn.linear_model.Ridge``) whose top package is on the allow-list fixed at install time. Importing all
of scikit-learn takes seconds, so short names are looked up module by module, in the order users most often need;
XGBoost and LightGBM are imported only for names with their prefix. The full listing is in ``_catalog``.
"""

import difflib
import importlib
import os
import re
import sys

from . import _meta_estimators as meta
from ._work_bounds import bound_error, check_work_bounds, installed_work_bounds
from .errors import ConfigurationError

# Searched in this order for short names; the rest of sklearn.__all__ follows.
_PREFERRED_MODULES = (
    "linear_model", "ensemble", "tree", "neighbors", "svm", "naive_bayes", "cluster", "neural_network",
    "dummy", "discriminant_analysis", "kernel_ridge", "gaussian_process", "isotonic", "cross_decomposition",
)

TASKS = ("classification", "regression", "clustering", "anomaly_detection")
DEFAULT_PACKAGES = ("sklearn", "xgboost", "lightgbm")

# Packages beyond scikit-learn: short names start with the prefix, the estimators are the public classes of one module,
# n_jobs counts threads (not processes), and `quiet` keeps their training chatter out of the server log.
EXTRA_PACKAGES = {
    "xgboost": {"prefix": "xgb", "module": "xgboost.sklearn", "quiet": {"verbosity": 0}},
    "lightgbm": {"prefix": "lgbm", "module": "lightgbm.sklearn", "quiet": {"verbose": -1}},
}


def _normalise(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _is_estimator_class(obj):
    from sklearn.base import BaseEstimator

    return isinstance(obj, type) and issubclass(obj, BaseEstimator) and hasattr(obj, "fit")


def _public_estimators(module):
    # Some modules (sklearn.calibration, dummy, kernel_ridge, ...) have no __all__: their public names, then.
    names = getattr(module, "__all__", None) or [name for name in dir(module) if not name.startswith("_")]
    for attr in names:
        try:
            obj = getattr(module, attr, None)
        except ImportError:  # experimental estimators refuse access until explicitly enabled
            continue
        if _is_estimator_class(obj):
            yield attr, obj


def extra_estimators(package):
    """The scikit-learn estimator classes of XGBoost or LightGBM (not their Dask or base classes' modules)."""
    module = importlib.import_module(package)
    return [(attr, cls) for attr, cls in _public_estimators(module)
            if cls.__module__ == EXTRA_PACKAGES[package]["module"]]


def _sklearn_modules():
    import sklearn

    rest = [m for m in sklearn.__all__ if m not in _PREFERRED_MODULES and not m.startswith("_")]
    return [*_PREFERRED_MODULES, *rest]


def class_path(cls):
    """The shortest public import path of a class: ``sklearn.ensemble.HistGradientBoostingClassifier``."""
    parts = cls.__module__.split(".")
    for end in range(1, len(parts) + 1):
        if parts[end - 1].startswith("_"):
            break
        module = sys.modules.get(".".join(parts[:end]))
        if getattr(module, cls.__name__, None) is cls:
            return f"{'.'.join(parts[:end])}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__name__}"


def short_name(cls):
    """``HistGradientBoostingClassifier`` -> ``hist_gradient_boosting_classifier``, ``XGBClassifier`` ->
    ``xgb_classifier``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()


def package_of(cls):
    return cls.__module__.split(".", 1)[0]


def _outside_allow_list(model, algorithm, package, allowed_packages):
    return ConfigurationError(
        f"model '{model}': algorithm '{algorithm}' is from '{package}', outside the packages allowed at install time "
        f"({', '.join(sorted(allowed_packages))}); use a scikit-learn estimator or ask the database admin to "
        f"reinstall dbt_learn with '{package}' in allowed_packages.")


def _find_short_name(model, name, allowed_packages):
    wanted = _normalise(name)
    for package, info in EXTRA_PACKAGES.items():
        if wanted.startswith(info["prefix"]):
            if package not in allowed_packages:
                raise _outside_allow_list(model, name, package, allowed_packages)
            try:
                candidates = extra_estimators(package)
            except ImportError:
                raise ConfigurationError(f"model '{model}': algorithm '{name}' needs the package '{package}', which "
                                         f"the database server's venv does not have.") from None
            return next((cls for attr, cls in candidates if _normalise(attr) == wanted), None)
    for module_name in _sklearn_modules():
        try:
            module = importlib.import_module(f"sklearn.{module_name}")
        except ImportError:  # pragma: no cover - optional sklearn parts
            continue
        for attr, cls in _public_estimators(module):
            if _normalise(attr) == wanted:
                return cls
    return None


def _all_short_names(allowed_packages):
    from sklearn.utils import all_estimators

    names = [short_name(cls) for _, cls in all_estimators()]
    for package in EXTRA_PACKAGES:
        if package in allowed_packages:
            try:
                names += [short_name(cls) for _, cls in extra_estimators(package)]
            except ImportError:  # pragma: no cover - not installed: nothing to suggest
                pass
    return sorted(names)


def _import_class_path(model, path, allowed_packages):
    top = path.split(".", 1)[0]
    if top not in allowed_packages:
        raise _outside_allow_list(model, path, top, allowed_packages)
    module_path, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError):
        raise ConfigurationError(f"model '{model}': algorithm '{path}' cannot be imported; check the module and class "
                                 f"name.") from None
    if not _is_estimator_class(cls):
        raise ConfigurationError(f"model '{model}': algorithm '{path}' is not a scikit-learn estimator class.")
    return cls


def resolve_algorithm(model, algorithm, allowed_packages=DEFAULT_PACKAGES):
    """Return the estimator class for an algorithm name or class path, or raise ConfigurationError."""
    if not isinstance(algorithm, str) or not algorithm.strip():
        raise ConfigurationError(f"model '{model}': no algorithm configured; set meta.algorithm, e.g. "
                                 f"'logistic_regression' or 'random_forest_regressor'.")
    algorithm = algorithm.strip()
    meta.refuse_search(model, algorithm)
    if "." in algorithm:
        return _import_class_path(model, algorithm, allowed_packages)
    cls = _find_short_name(model, algorithm, allowed_packages)
    if cls is None:
        close = difflib.get_close_matches(algorithm, _all_short_names(allowed_packages), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigurationError(
            f"model '{model}': unknown algorithm '{algorithm}'.{hint} Use the snake_case name of an estimator "
            f"(e.g. 'logistic_regression', 'xgb_classifier'; the ml_algorithms model lists them) or a class path "
            f"such as 'sklearn.linear_model.Ridge'.")
    return cls


def task_or_none(estimator):
    """The task from scikit-learn's own estimator tags, or None for a transformer, density estimator, ..."""
    from sklearn.base import is_classifier, is_clusterer, is_outlier_detector, is_regressor

    checks = (("classification", is_classifier), ("regression", is_regressor), ("clustering", is_clusterer),
              ("anomaly_detection", is_outlier_detector))
    try:
        return next((task for task, check in checks if check(estimator)), None)
    except AttributeError:  # tags that need a missing argument (SelfTrainingClassifier without estimator)
        return None


def task_of(estimator, model=None):
    """'classification', 'regression', 'clustering' or 'anomaly_detection' (sklearn's is_outlier_detector)."""
    task = task_or_none(estimator)
    if task is None:
        raise ConfigurationError(meta.not_a_predictor(model, estimator))
    return task


def thread_budget(options, bounds=None):
    """Threads one model may use: ``threads_per_model``, else the cores shared out among dbt's threads (the cap that
    ``_entry_support.thread_limit`` applies to BLAS/OpenMP). A ``threads_per_model`` above the bound is refused."""
    options = options or {}
    wanted = options.get("threads_per_model")
    bound = (bounds or {}).get("threads_per_model")
    if wanted and bound and not isinstance(wanted, bool) and isinstance(wanted, (int, float)) and wanted > bound:
        model = str(options.get("unique_id") or "").rsplit(".", 1)[-1] or "this model"
        raise bound_error(model, "threads_per_model", wanted, bound)
    return int(wanted or max(1, (os.cpu_count() or 1) // max(1, options.get("dbt_threads") or 1)))


def build_estimator(model, algorithm, params=None, random_state=None, allowed_packages=DEFAULT_PACKAGES,
                    threads=None, bounds=None):
    """Instantiate the configured estimator, checking every hyperparameter name against ``get_params()``.

    Estimator-valued hyperparameters of meta-estimators (``estimator``, ``estimators``, ``final_estimator``, ...) are
    built the same way from an algorithm name or ``{algorithm, params}``; ``threads`` is the thread budget given to
    XGBoost/LightGBM's ``n_jobs`` (default: ``thread_budget({})``). ``bounds``: the work bounds (default: the
    installation's, ``installed_work_bounds``); a hyperparameter above its bound is refused.
    """
    if params is not None and not isinstance(params, dict):
        raise ConfigurationError(f"model '{model}': meta.params must be a mapping of hyperparameter names to values.")
    cls = resolve_algorithm(model, algorithm, allowed_packages)
    return build_from_class(model, cls, params, random_state, allowed_packages, threads, bounds)


def build_from_class(model, cls, params=None, random_state=None, allowed_packages=DEFAULT_PACKAGES, threads=None,
                     bounds=None):
    meta.refuse_composition(model, cls)
    params = dict(params or {})
    bounds = installed_work_bounds() if bounds is None else bounds
    check_work_bounds(model, params, bounds)

    def build_nested(spec):
        algorithm, nested_params = spec
        return build_estimator(model, algorithm, nested_params, random_state, allowed_packages, threads, bounds)

    params = meta.build_nested(model, cls, params, build_nested)
    required = meta.required_arguments(cls)
    meta.check_required(model, cls, required, params)
    threaded = package_of(cls) in EXTRA_PACKAGES
    estimator = cls(**{name: params[name] for name in required},
                    **(EXTRA_PACKAGES[package_of(cls)]["quiet"] if threaded else {}))
    valid = estimator.get_params(deep=True)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        bad = unknown[0]
        close = difflib.get_close_matches(bad, list(valid), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigurationError(f"model '{model}': unknown hyperparameter '{bad}' for {cls.__name__}.{hint} "
                                 f"Valid hyperparameters are: {', '.join(sorted(valid))}.")
    _refuse_server_side_effects(model, cls, params, threaded)
    params.update(dbt_learn_defaults(model, cls, valid, params, random_state, threads if threaded else None))
    estimator.set_params(**{name: value for name, value in params.items() if name not in required})
    meta.refuse_multi_output(model, estimator)
    _validate_params(model, estimator)
    return estimator


def dbt_learn_defaults(model, cls, valid, params, random_state=None, threads=None):
    """What dbt_learn sets unless the model does: the run's random_state, novelty for LocalOutlierFactor (without it,
    it can only label the rows it was fitted on), and XGBoost/LightGBM's n_jobs (threads) from the thread budget."""
    defaults = {}
    if random_state is not None and "random_state" in valid and "random_state" not in params:
        defaults["random_state"] = random_state
    if "novelty" in valid:
        if params.get("novelty", True) is not True:
            raise ConfigurationError(
                f"model '{model}': {cls.__name__} with novelty={params['novelty']!r} can only label the rows it was "
                f"fitted on, so its version could never score new rows; remove 'novelty' from meta.params "
                f"(dbt_learn sets novelty=true).")
        defaults["novelty"] = True
    if package_of(cls) in EXTRA_PACKAGES and "n_jobs" in valid and "n_jobs" not in params:
        defaults["n_jobs"] = threads or thread_budget({})
    return defaults


def _refuse_server_side_effects(model, cls, params, threaded):
    # The fit runs inside a Postgres backend as the server's OS user: no caller-chosen cache directories, and no
    # worker processes forked from the backend (threads are capped by threads_per_model instead).
    for name, value in params.items():
        base = name.rsplit("__", 1)[-1]
        if base == "memory" and value is not None:
            raise ConfigurationError(
                f"model '{model}': hyperparameter '{name}' of {cls.__name__} would make the database server write "
                f"files to a path from the model config; dbt_learn does not allow it. Remove it.")
        if name == "n_jobs" and threaded:  # threads, not processes: a positive number replaces the budget
            if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
                raise ConfigurationError(
                    f"model '{model}': n_jobs={value!r} of {cls.__name__} counts threads; give a positive number, "
                    f"or leave it out and dbt_learn uses the model's thread budget (meta.threads_per_model).")
        elif base == "n_jobs" and value not in (None, 1):
            raise ConfigurationError(
                f"model '{model}': {name}={value!r} would start worker processes inside a Postgres backend; "
                f"remove it and set meta.threads_per_model to use more cores.")


def check_scorable(model, estimator):
    """Every trained version must be able to score new rows: a transformer predicts nothing, and clusterers without
    predict (DBSCAN, ...) or LocalOutlierFactor without novelty cannot score rows they were not fitted on."""
    if task_or_none(estimator) is None:
        raise ConfigurationError(meta.not_a_predictor(model, estimator))
    if not hasattr(estimator, "predict"):
        if any(key.rsplit("__", 1)[-1] == "novelty" for key in estimator.get_params()):  # bare or in a Pipeline
            raise ConfigurationError(
                f"model '{model}': {type(estimator).__name__} with novelty=False can only label the rows it was "
                f"fitted on, so its version could never score new rows; set novelty=True.")
        raise ConfigurationError(
            f"model '{model}': {type(estimator).__name__} has no predict method, so its version could never score "
            f"new rows; use a clusterer that predicts, such as k_means, mini_batch_k_means or birch.")


def _validate_params(model, estimator):
    # scikit-learn checks values (types, ranges) only at fit time; check now so a bad value fails before data moves.
    if not hasattr(type(estimator), "_parameter_constraints"):
        return  # XGBoost / LightGBM validate at fit time only
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        estimator._validate_params()
    except InvalidParameterError as exc:
        raise ConfigurationError(f"model '{model}': {exc}{meta.nested_hint(str(exc))}") from None


def plain_params(estimator):
    """The hyperparameters as JSON-able values (for the registry); a nested estimator as ``{algorithm, params}``."""
    return meta.plain_params(estimator, short_name)
