"""Fitting an estimator with a holdout evaluation, and the statistics recorded with each version."""

import time

import numpy as np

from .errors import TrainingDataError


def holdout_split(model, X, y, task, holdout_size, random_state):
    """Split rows into fit and holdout parts; stratified for classification when every class has two rows."""
    from sklearn.model_selection import train_test_split

    n_rows = len(X)
    if not holdout_size:
        return X, None, y, None
    if n_rows < 2:
        raise TrainingDataError(
            f"model '{model}': {n_rows} training row is too few for a holdout split; add rows or set "
            f"meta.holdout_size to 0."
        )
    stratify = None
    if task == "classification" and y is not None:
        _, counts = np.unique(y, return_counts=True)
        n_holdout = int(np.ceil(holdout_size * n_rows)) if holdout_size < 1 else int(holdout_size)
        if counts.min() >= 2 and n_holdout >= len(counts) and n_rows - n_holdout >= len(counts):
            stratify = y
    if y is None:
        X_fit, X_holdout = train_test_split(X, test_size=holdout_size, random_state=random_state)
        return X_fit, X_holdout, None, None
    X_fit, X_holdout, y_fit, y_holdout = train_test_split(
        X, y, test_size=holdout_size, random_state=random_state, stratify=stratify
    )
    return X_fit, X_holdout, y_fit, y_holdout


def evaluate(task, estimator, X, y):
    """Holdout metrics by task, computed with sklearn.metrics."""
    from sklearn import metrics

    if X is None or len(X) == 0:
        return {}
    if task == "regression":
        predicted = estimator.predict(X)
        return {
            "r2": float(metrics.r2_score(y, predicted)) if len(y) > 1 else None,
            "mae": float(metrics.mean_absolute_error(y, predicted)),
            "rmse": float(metrics.root_mean_squared_error(y, predicted)),
        }
    if task == "classification":
        predicted = estimator.predict(X)
        return {
            "accuracy": float(metrics.accuracy_score(y, predicted)),
            "balanced_accuracy": float(metrics.balanced_accuracy_score(y, predicted)),
            "f1_macro": float(metrics.f1_score(y, predicted, average="macro")),
        }
    if task == "clustering":
        labels = estimator.predict(X) if hasattr(estimator, "predict") else None
        if labels is None or len(np.unique(labels)) < 2:
            return {}
        return {"silhouette": float(metrics.silhouette_score(X, labels))}
    return {}


def headline_metric(task):
    """The one holdout score shown in logs and summaries."""
    return {"regression": "r2", "classification": "accuracy", "clustering": "silhouette"}.get(task)


def fit_with_holdout(model, estimator, X, y, task, *, holdout_size=0.2, random_state=None, refit=True):
    """Fit on the fit split, score on the holdout, then (by default) refit a fresh clone on every row.

    Returns ``(fitted_estimator, metrics, fit_seconds, holdout_rows)``; fit_seconds is the time of the final fit.
    """
    from sklearn.base import clone

    X_fit, X_holdout, y_fit, y_holdout = holdout_split(model, X, y, task, holdout_size, random_state)
    evaluated = clone(estimator)
    started = time.perf_counter()
    _fit(model, evaluated, X_fit, y_fit)
    fit_seconds = time.perf_counter() - started
    metrics = evaluate(task, evaluated, X_holdout, y_holdout)
    final = evaluated
    if refit and X_holdout is not None:
        final = clone(estimator)
        started = time.perf_counter()
        _fit(model, final, X, y)
        fit_seconds = time.perf_counter() - started
    holdout_rows = 0 if X_holdout is None else len(X_holdout)
    return final, metrics, fit_seconds, holdout_rows


def _fit(model, estimator, X, y):
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


def numeric_training_stats(names, X):
    """Per-feature count, nulls, mean, std, min and max of a float matrix (NaN meaning NULL)."""
    stats = {}
    for index, name in enumerate(names):
        column = X[:, index]
        present = column[~np.isnan(column)]
        stats[name] = {
            "count": int(column.shape[0]),
            "nulls": int(column.shape[0] - present.shape[0]),
            "mean": float(present.mean()) if present.size else None,
            "std": float(present.std()) if present.size else None,
            "min": float(present.min()) if present.size else None,
            "max": float(present.max()) if present.size else None,
        }
    return stats


def frame_training_stats(frame):
    """The same statistics for a pandas DataFrame; text columns get count, nulls and distinct values."""
    stats = {}
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind in "biuf":
            stats.update(numeric_training_stats([name], column.to_numpy(dtype=np.float64, na_value=np.nan)[:, None]))
        else:
            stats[name] = {"count": int(len(column)), "nulls": int(column.isna().sum()),
                           "distinct": int(column.nunique())}
    return stats
