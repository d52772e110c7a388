"""Fitting an estimator: evaluate on a holdout (and optionally k folds), then refit on every row; and the
per-feature statistics recorded with each version as the drift baseline."""

import time
from dataclasses import dataclass, field

import numpy as np

from .errors import TrainingDataError
from .evaluation import HEADLINE, compute_metrics, cross_validate_scores, split_rows, take


def headline_metric(task):
    """The one holdout score shown in logs and summaries."""
    return HEADLINE.get(task)


@dataclass
class Fit:
    estimator: object
    metrics: dict
    fit_seconds: float
    holdout_rows: int
    evaluation: dict = field(default_factory=dict)


def fit_with_holdout(model, estimator, X, y, task, *, holdout_size=0.2, random_state=None, refit=True,
                     split="auto", order=None, cv_folds=0, class_names=None):
    """Fit on the fit rows, score the holdout, cross-validate if asked, then (by default) refit on every row."""
    from sklearn.base import clone

    n_rows = len(X)
    fit_rows, holdout = split_rows(model, y, task, n_rows, holdout_size=holdout_size, random_state=random_state,
                                   split=split, order=order, class_names=class_names)
    y_part = (lambda index: None) if y is None else (lambda index: np.asarray(y)[index])
    evaluated = clone(estimator)
    fit_seconds = _timed_fit(model, evaluated, take(X, fit_rows), y_part(fit_rows))
    metrics = {} if holdout is None else compute_metrics(task, evaluated, take(X, holdout), y_part(holdout))
    evaluation = {"split": split, "holdout_size": holdout_size, "holdout_rows": 0 if holdout is None else len(holdout),
                  "refit": bool(refit and holdout is not None), "cv_folds": cv_folds or 0}
    if cv_folds:
        evaluation["cv"] = cross_validate_scores(clone(estimator), X, y, task, folds=cv_folds, split=split,
                                                 random_state=random_state, order=order)
    final = evaluated
    if refit and holdout is not None:
        final = clone(estimator)
        fit_seconds = _timed_fit(model, final, X, y)
    return Fit(final, metrics, fit_seconds, evaluation["holdout_rows"], evaluation)


def _timed_fit(model, estimator, X, y):
    started = time.perf_counter()
    try:
        if y is None:
            estimator.fit(X)
        else:
            estimator.fit(X, y)
    except ValueError as exc:
        message = str(exc)
        if "NaN" in message:
            raise TrainingDataError(
                f"model '{model}': {type(estimator).__name__} does not accept missing values and a feature column "
                f"has NULLs. Fill them in the training view (coalesce), drop those rows, or use an estimator that "
                f"handles missing values such as hist_gradient_boosting_classifier/_regressor. ({message})"
            ) from None
        raise TrainingDataError(f"model '{model}': {type(estimator).__name__}.fit failed: {message}") from None
    return time.perf_counter() - started


_QUANTILES = np.linspace(0, 1, 11)
_MAX_CATEGORIES = 50


def numeric_training_stats(names, X):
    """Per feature: count, nulls, mean, std, min, max, decile bin edges and the share of rows in each bin."""
    stats = {}
    for index, name in enumerate(names):
        column = X[:, index]
        present = column[~np.isnan(column)]
        entry = {"count": int(column.shape[0]), "nulls": int(column.shape[0] - present.shape[0]),
                 "mean": None, "std": None, "min": None, "max": None, "quantiles": None, "frequencies": None}
        if present.size:
            edges = np.unique(np.quantile(present, _QUANTILES))
            counts = np.histogram(present, bins=edges)[0] if len(edges) > 1 else np.array([present.size])
            entry.update(mean=float(present.mean()), std=float(present.std()), min=float(present.min()),
                         max=float(present.max()), quantiles=edges.tolist(),
                         frequencies=(counts / present.size).tolist())
        stats[name] = entry
    return stats


def frame_training_stats(frame):
    """The same for a pandas DataFrame; text columns get count, nulls, distinct values and category shares."""
    stats = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biuf":
            stats.update(numeric_training_stats([name], column.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]))
        else:
            shares = column.astype(str).where(column.notna()).value_counts(normalize=True, dropna=True)
            stats[name] = {"count": int(len(column)), "nulls": int(column.isna().sum()),
                           "distinct": int(column.nunique()),
                           "categories": {str(k): float(v) for k, v in shares.head(_MAX_CATEGORIES).items()}}
    return stats
