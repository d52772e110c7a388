"""Upper bounds on the work one model may ask for: the hyperparameters that set the amount of work, and threads.

The admin sets them with ``dbt_learn.install(work_bounds={...})`` (stored in ``dbt_learn.installation.work_bounds``)
over these defaults; docs/security.md, "Bounds on work".
"""

import os
import sys

from .errors import ConfigurationError

# Upper bounds on the hyperparameters that set the amount of work, and on threads: the admin's
# dbt_learn.install(work_bounds={...}) over these defaults (dbt_learn.installation.work_bounds). 5000 trees or boosting
# rounds and 100,000 iterations are far past what a model needs (early stopping, tol) and still end within the hour
# on a million rows; n_init 100 is 10x scikit-learn's largest default; threads: the server's cores.
WORK_BOUNDS = ("n_estimators", "max_iter", "n_init", "threads_per_model")


def default_work_bounds():
    return {"n_estimators": 5000, "max_iter": 100_000, "n_init": 100, "threads_per_model": os.cpu_count() or 1}


def bound_error(model, name, value, bound):
    return ConfigurationError(
        f"model '{model}': {name}={value!r} is above this database's bound of {bound} (work_bounds, set by the admin "
        f"in dbt_learn.install); lower it, or ask the admin to raise the bound.")


def installed_work_bounds():
    """The bounds in force, read in the backend's thread; None elsewhere (outside Postgres, a worker thread)."""
    import threading

    plpy = sys.modules.get("plpy")
    if plpy is None or threading.current_thread() is not threading.main_thread():
        return None
    from .registry import work_bounds

    return work_bounds(plpy)


def check_work_bounds(model, params, bounds):
    """Refuse a hyperparameter (bare or nested, ``estimator__n_estimators``) above its bound."""
    for name, value in (params or {}).items():
        bound = (bounds or {}).get(name.rsplit("__", 1)[-1])
        if bound is None or name.rsplit("__", 1)[-1] == "threads_per_model":
            continue
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > bound:
            raise bound_error(model, name, value, bound)
