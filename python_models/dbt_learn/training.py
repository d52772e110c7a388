"""Fitting an estimator: evaluate on a holdout (and optionally k folds), then refit on every row; and the
per-feature statistics recorded with each version as the drift baseline."""

import time
import warnings
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
# Histogram edges and shares come from a systematic sample: a decile baseline does not need every row, and sorting
# every column of a large batch cost more than the fit of a linear model (0.75 s at 1M x 10).
_HISTOGRAM_SAMPLE = 100_000


def numeric_training_stats(names, X):
    """Per feature: count, nulls, mean, std, min, max, decile bin edges and the share of rows in each bin.

    Moments and extremes use every row; the decile edges and the bin shares use an evenly spaced sample of at most
    100,000 rows (the edges then stretch to the true min and max).
    """
    missing = np.isnan(X)
    nulls = missing.sum(axis=0)
    # One vectorised pass over all columns when nothing is missing (the usual case); NaN-aware reductions otherwise.
    reduce = (np.mean, np.std, np.min, np.max) if not nulls.any() else (np.nanmean, np.nanstd, np.nanmin, np.nanmax)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NULL columns: reported as None below
        moments = [function(X, axis=0) for function in reduce] if len(X) else None
    sample = X[::max(1, -(-len(X) // _HISTOGRAM_SAMPLE))]
    stats = {}
    for index, name in enumerate(names):
        entry = {"count": int(X.shape[0]), "nulls": int(nulls[index]),
                 "mean": None, "std": None, "min": None, "max": None, "quantiles": None, "frequencies": None}
        if nulls[index] < X.shape[0]:
            mean, std, low, high = (float(values[index]) for values in moments)
            present = sample[:, index]
            present = present[~np.isnan(present)]
            if not present.size:  # the sample missed every non-null value
                present = X[~missing[:, index], index]
            edges = np.quantile(present, _QUANTILES)
            edges[0], edges[-1] = low, high
            edges = np.unique(edges)
            entry.update(mean=mean, std=std, min=low, max=high, quantiles=edges.tolist(),
                         frequencies=_bin_shares(present, edges))
        stats[name] = entry
    return stats


def _bin_shares(values, edges):
    """Share of values per bin [edge_i, edge_i+1), the last bin closed, like numpy.histogram without its sort."""
    if len(edges) < 2:
        return [1.0]
    bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)
    return (np.bincount(bins, minlength=len(edges) - 1) / values.size).tolist()


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
