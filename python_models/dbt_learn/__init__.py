"""dbt_learn's in-database runtime: trains and scores scikit-learn estimators inside Postgres.

The SQL functions installed by the dbt macro ``dbt_learn.install`` call the entry points in ``sql_functions``; the
modules listed here are the pure, database-free parts, usable and tested on their own.
"""

from ._version import __version__
from .errors import ConfigurationError, DbtLearnError, ModelCodeError, ScoringError, TrainingDataError
from .estimators import build_estimator, resolve_algorithm, short_name, task_of
from .scoring import copy_arrays, predict_batch
from .serialization import dump, load
from .evaluation import METRICS, compute_metrics
from .training import Fit, fit_with_holdout

__all__ = [
    "__version__",
    "ConfigurationError",
    "DbtLearnError",
    "ModelCodeError",
    "ScoringError",
    "TrainingDataError",
    "build_estimator",
    "copy_arrays",
    "dump",
    "compute_metrics",
    "Fit",
    "METRICS",
    "fit_with_holdout",
    "load",
    "predict_batch",
    "resolve_algorithm",
    "short_name",
    "task_of",
]
