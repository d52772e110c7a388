"""Which scikit-learn estimator a model asks for, and with which hyperparameters.

An algorithm is named either by a short name (``logistic_regression``, ``hist_gradient_boosting_classifier``), matched
against the public classes of scikit-learn's modules, or by a class path (``sklearn.linear_model.Ridge``) whose top
package is on the allow-list fixed at install time. Importing all of scikit-learn takes seconds, so short names are
looked up module by module, in the order users most often need.
"""

import difflib
import importlib
import re
import sys

from .errors import ConfigurationError

# Searched in this order for short names; the rest of sklearn.__all__ follows.
_PREFERRED_MODULES = (
    "linear_model", "ensemble", "tree", "neighbors", "svm", "naive_bayes", "cluster", "neural_network",
    "dummy", "discriminant_analysis", "kernel_ridge", "gaussian_process", "isotonic", "cross_decomposition",
)

TASKS = ("classification", "regression", "clustering")


def _normalise(name):
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _public_estimators(module):
    from sklearn.base import BaseEstimator

    for attr in getattr(module, "__all__", ()):
        try:
            obj = getattr(module, attr, None)
        except ImportError:  # experimental estimators refuse access until explicitly enabled
            continue
        if isinstance(obj, type) and issubclass(obj, BaseEstimator) and hasattr(obj, "fit"):
            yield attr, obj


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
    """``HistGradientBoostingClassifier`` -> ``hist_gradient_boosting_classifier``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls.__name__).lower()


def _find_short_name(name):
    wanted = _normalise(name)
    for module_name in _sklearn_modules():
        try:
            module = importlib.import_module(f"sklearn.{module_name}")
        except ImportError:  # pragma: no cover - optional sklearn parts
            continue
        for attr, cls in _public_estimators(module):
            if _normalise(attr) == wanted:
                return cls
    return None


def _all_short_names():
    from sklearn.utils import all_estimators

    return sorted(short_name(cls) for _, cls in all_estimators())


def _import_class_path(model, path, allowed_packages):
    top = path.split(".", 1)[0]
    if top not in allowed_packages:
        raise ConfigurationError(
            f"model '{model}': algorithm '{path}' is outside the packages allowed at install time "
            f"({', '.join(sorted(allowed_packages))}); use a scikit-learn estimator or ask the database admin to "
            f"reinstall dbt_learn with '{top}' in allowed_packages."
        )
    module_path, _, class_name = path.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_path), class_name)
    except (ImportError, AttributeError):
        raise ConfigurationError(
            f"model '{model}': algorithm '{path}' cannot be imported; check the module and class name."
        ) from None
    from sklearn.base import BaseEstimator

    if not (isinstance(cls, type) and issubclass(cls, BaseEstimator) and hasattr(cls, "fit")):
        raise ConfigurationError(f"model '{model}': algorithm '{path}' is not a scikit-learn estimator class.")
    return cls


def resolve_algorithm(model, algorithm, allowed_packages=("sklearn",)):
    """Return the estimator class for an algorithm name or class path, or raise ConfigurationError."""
    if not isinstance(algorithm, str) or not algorithm.strip():
        raise ConfigurationError(
            f"model '{model}': no algorithm configured; set meta.algorithm, e.g. 'logistic_regression' or "
            f"'random_forest_regressor'."
        )
    algorithm = algorithm.strip()
    if "." in algorithm:
        return _import_class_path(model, algorithm, allowed_packages)
    cls = _find_short_name(algorithm)
    if cls is None:
        close = difflib.get_close_matches(algorithm, _all_short_names(), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigurationError(
            f"model '{model}': unknown algorithm '{algorithm}'.{hint} Use the snake_case name of a scikit-learn "
            f"estimator (e.g. 'logistic_regression') or a class path such as 'sklearn.linear_model.Ridge'."
        )
    return cls


def task_of(estimator):
    """'classification', 'regression' or 'clustering', from scikit-learn's own estimator tags."""
    from sklearn.base import is_classifier, is_clusterer, is_regressor

    if is_classifier(estimator):
        return "classification"
    if is_regressor(estimator):
        return "regression"
    if is_clusterer(estimator):
        return "clustering"
    raise ConfigurationError(
        f"{type(estimator).__name__} is neither a classifier, a regressor nor a clusterer; ml_train fits those."
    )


def build_estimator(model, algorithm, params=None, random_state=None, allowed_packages=("sklearn",)):
    """Instantiate the configured estimator, checking every hyperparameter name against ``get_params()``."""
    cls = resolve_algorithm(model, algorithm, allowed_packages)
    params = dict(params or {})
    if not isinstance(params, dict):
        raise ConfigurationError(f"model '{model}': meta.params must be a mapping of hyperparameter names to values.")
    valid = cls().get_params(deep=True)
    unknown = sorted(set(params) - set(valid))
    if unknown:
        bad = unknown[0]
        close = difflib.get_close_matches(bad, list(valid), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigurationError(
            f"model '{model}': unknown hyperparameter '{bad}' for {cls.__name__}.{hint} "
            f"Valid hyperparameters are: {', '.join(sorted(valid))}."
        )
    _refuse_server_side_effects(model, cls, params)
    if random_state is not None and "random_state" in valid and "random_state" not in params:
        params["random_state"] = random_state
    estimator = cls().set_params(**params)
    _validate_params(model, estimator)
    return estimator


def _refuse_server_side_effects(model, cls, params):
    # The fit runs inside a Postgres backend as the server's OS user: no caller-chosen cache directories, and no
    # worker processes forked from the backend (threads are capped by threads_per_model instead).
    if params.get("memory") is not None:
        raise ConfigurationError(
            f"model '{model}': hyperparameter 'memory' of {cls.__name__} would make the database server write files "
            f"to a path from the model config; dbt_learn does not allow it. Remove it.")
    if params.get("n_jobs") not in (None, 1):
        raise ConfigurationError(
            f"model '{model}': n_jobs={params['n_jobs']!r} would start worker processes inside a Postgres backend; "
            f"remove it and set meta.threads_per_model to use more cores.")


def check_scorable(model, estimator):
    """Every trained version must be able to score new rows: clusterers without predict (DBSCAN, ...) cannot."""
    if not hasattr(estimator, "predict"):
        raise ConfigurationError(
            f"model '{model}': {type(estimator).__name__} has no predict method, so its version could never score "
            f"new rows; use a clusterer that predicts, such as k_means, mini_batch_k_means or birch.")


def _validate_params(model, estimator):
    # scikit-learn checks values (types, ranges) only at fit time; check now so a bad value fails before data moves.
    validate = getattr(estimator, "_validate_params", None)
    if validate is None:
        return
    from sklearn.utils._param_validation import InvalidParameterError

    try:
        validate()
    except InvalidParameterError as exc:
        raise ConfigurationError(f"model '{model}': {exc}") from None
