"""Fitting an estimator: evaluate on a holdout (and optionally k folds), then refit on every row; and the
statistics recorded with each version as the drift baseline: per feature (training_stats) and per output column of
its predictions (evaluation['prediction_stats'])."""

import contextlib
import re
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import preprocessing
from .errors import DbtLearnError, TrainingDataError
from .evaluation import HEADLINE, compute_metrics, cross_validate_scores, model_outputs, split_rows, take


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
    holdout_index: object = None  # positions of the holdout rows in X, when there is a holdout
    evaluated: object = None  # the estimator fitted without the holdout rows (the final one when there is none)
    importance_rows: object = None  # (X rows, y rows) taken for the importances before a fit consumed X


def fit_with_holdout(model, estimator, X, y, task, *, holdout_size=0.2, random_state=None, refit=True,
                     split="auto", order=None, cv_folds=0, class_names=None, threshold=None, consume_X=False):
    """Fit on the fit rows, score the holdout, cross-validate if asked, then (by default) refit on every row.

    ``consume_X``: the caller never reads X again (a decoded training batch), so the final fit may impute, scale and
    center it in place (preprocessing.fit) instead of copying it, one matrix less at the fit's peak; the rows the
    prediction baseline and the importances need are taken first (``Fit.importance_rows``)."""
    from sklearn.base import clone

    from ._work_bounds import check_work_bounds, installed_work_bounds

    # A Python model's estimator was built by its code, not by build_estimator: the bounds are checked here.
    check_work_bounds(model, estimator.get_params(deep=True), installed_work_bounds())
    n_rows = len(X)
    fit_rows, holdout = split_rows(model, y, task, n_rows, holdout_size=holdout_size, random_state=random_state,
                                   split=split, order=order, class_names=class_names)
    y_part = (lambda index: None) if y is None else (lambda index: np.asarray(y)[index])
    evaluated = clone(estimator)
    consume = bool(consume_X and not cv_folds and isinstance(X, np.ndarray))
    kept = None
    if consume:
        rows = importance_rows(n_rows, holdout, random_state)
        kept = (take(X, rows), None if y is None else np.asarray(y)[rows])
        baseline_rows = None if holdout is not None else take(X, _baseline_sample(n_rows))
    if holdout is None:  # every row, in order: fit on X itself rather than on a copy of it
        fit_seconds = _timed_fit(model, evaluated, X, y, private_input=consume)
    else:
        fit_X = take(X, fit_rows)  # a copy of the rows: the imputer may fill it in place (preprocessing.fit)
        private = isinstance(fit_X, np.ndarray) and not np.may_share_memory(fit_X, X)
        fit_seconds = _timed_fit(model, evaluated, fit_X, y_part(fit_rows), private_input=private)
        del fit_X
    outputs = None if holdout is None else model_outputs(task, evaluated, take(X, holdout), threshold)
    metrics = {} if holdout is None else compute_metrics(task, evaluated, take(X, holdout), y_part(holdout), outputs)
    evaluation = {"split": split, "holdout_size": holdout_size, "holdout_rows": 0 if holdout is None else len(holdout),
                  "refit": bool(refit and holdout is not None), "cv_folds": cv_folds or 0}
    if threshold is not None:
        evaluation["threshold"] = threshold
    if cv_folds:
        evaluation["cv"] = cross_validate_scores(clone(estimator), X, y, task, folds=cv_folds, split=split,
                                                 random_state=random_state, order=order)
    final = evaluated
    if refit and holdout is not None:
        final = clone(estimator)
        fit_seconds = _timed_fit(model, final, X, y, private_input=consume)
    if consume and holdout is None:
        evaluation["prediction_stats"] = training_prediction_stats(task, final, baseline_rows, class_names, threshold,
                                                                   sampled=True)
    else:
        evaluation["prediction_stats"] = _prediction_baseline(task, evaluated, final, X, holdout, outputs,
                                                              class_names, threshold)
    return Fit(final, metrics, fit_seconds, evaluation["holdout_rows"], evaluation, holdout, evaluated, kept)


IMPORTANCE_ROWS = 10_000  # explanations.global_importances: permutation importance on at most this many rows


def importance_rows(n_rows, holdout, random_state):
    """The rows the served version's importances are computed on: the holdout (else every row), a seeded sample of
    at most IMPORTANCE_ROWS of them."""
    rows = holdout if holdout is not None else np.arange(n_rows)
    if len(rows) > IMPORTANCE_ROWS:
        drawn = np.random.default_rng(random_state).choice(len(rows), IMPORTANCE_ROWS, replace=False)
        rows = rows[np.sort(drawn)]
    return rows


def _baseline_sample(n_rows):
    return np.arange(0, n_rows, max(1, -(-n_rows // _HISTOGRAM_SAMPLE)))


def _prediction_baseline(task, evaluated, final, X, holdout, holdout_outputs, class_names, threshold=None):
    """prediction_stats of the evaluated estimator's holdout predictions, else training_prediction_stats."""
    if holdout is None:
        return training_prediction_stats(task, final, X, class_names, threshold)
    return prediction_stats(task, holdout_outputs, getattr(evaluated, "classes_", None),
                            _labels(evaluated, class_names), _labels(final, class_names), "holdout")


def training_prediction_stats(task, estimator, X, class_names=None, threshold=None, sampled=False):
    """prediction_stats of a served estimator's predictions on (a sample of at most 100,000 of) its own training
    rows: in-sample, so flattering; for versions without a holdout, or fitted by a Python model's own code.
    ``sampled``: X is that sample already (taken before a fit that consumed the rows)."""
    if X is None or not len(X):
        return {}
    sample = np.arange(len(X)) if sampled else _baseline_sample(len(X))
    outputs = model_outputs(task, estimator, X if sampled else take(X, sample), threshold)
    labels_ = getattr(estimator, "labels_", ())
    if not outputs and len(labels_) and (sampled or len(labels_) == len(X)):  # a clusterer without predict
        outputs = {"predicted": np.asarray(labels_)[_baseline_sample(len(labels_)) if sampled else sample]}
    labels = _labels(estimator, class_names)
    return prediction_stats(task, outputs, getattr(estimator, "classes_", None), labels, labels, "training rows")


def _labels(estimator, class_names):
    """A classifier's classes as the registry names them: class_names[index] for SQL models (they fit on class
    indexes), str(label) for Python models."""
    if not hasattr(estimator, "classes_"):
        return None
    return [class_names[int(c)] if class_names is not None else str(c) for c in estimator.classes_]


def _timed_fit(model, estimator, X, y, private_input=False):
    name = type(estimator[-1] if hasattr(estimator, "steps") else estimator).__name__
    started = time.perf_counter()
    with fit_errors(model, name, "fit", ". Fill them in the training view (coalesce), drop those rows, or use an "
                    "estimator that handles missing values such as hist_gradient_boosting_classifier/_regressor."):
        preprocessing.fit(estimator, X, y, private_input)
    return time.perf_counter() - started


@contextlib.contextmanager
def fit_errors(model, name, method, missing_advice):
    """Any exception from ``name.method`` as a TrainingDataError naming the model and the estimator (NaN in X: NULL
    features, ``missing_advice`` says what to do); the database's errors (a cancel) and the runtime's pass through."""
    try:
        yield
    except DbtLearnError:
        raise
    except (ValueError, TypeError) as exc:
        message = str(exc)
        if "Input y contains" in message:
            raise TrainingDataError(f"model '{model}': {name}.{method} refused the target column: {message} Filter "
                                    f"those rows out in the training view.") from None
        if "NaN" in message:
            raise TrainingDataError(f"model '{model}': {name} does not accept missing values and a feature column has "
                                    f"NULLs{missing_advice} ({message})") from None
        raise TrainingDataError(f"model '{model}': {name}.{method} failed: {message}") from None
    except Exception as exc:  # noqa: BLE001 - translated, never a raw traceback
        if any(kind.__name__ == "SPIError" for kind in type(exc).__mro__):
            raise
        advice = ("train on fewer rows (meta.sample) or a lighter configuration" if isinstance(exc, MemoryError)
                  else "check the training data and the hyperparameters, or choose another algorithm")
        raise TrainingDataError(f"model '{model}': {name}.{method} failed with {type(exc).__name__}: "
                                f"{str(exc) or 'no message'}; {advice}.") from None


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
    nulls, moments = _moments(X)
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
                present = X[~np.isnan(X[:, index]), index]
            edges = np.quantile(present, _QUANTILES)
            edges[0], edges[-1] = low, high
            edges = np.unique(edges)
            entry.update(mean=mean, std=std, min=low, max=high, quantiles=edges.tolist(),
                         frequencies=_bin_shares(present, edges))
        stats[name] = entry
    return stats


_BLOCK_ROWS = 1 << 15


def _moments(X):
    """``(nulls, (mean, std, min, max))`` per column, NaN ignored (an all-NULL column gets NaN moments).

    One pass over blocks of rows, each transposed into a small contiguous copy: column-wise reductions over the
    whole row-major matrix took 0.37 s at 1M x 10 (five strided passes), these 0.06 s, and no temporary of the
    matrix's size. Block means and squared deviations combine exactly as Chan et al.'s pairwise update."""
    n_cols = X.shape[1]
    nulls = np.zeros(n_cols, dtype=np.int64)
    count, mean, m2 = np.zeros(n_cols), np.zeros(n_cols), np.zeros(n_cols)
    low, high = np.full(n_cols, np.inf), np.full(n_cols, -np.inf)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NULL blocks and columns: NaN, reported as None
        for start in range(0, X.shape[0], _BLOCK_ROWS):
            block = np.ascontiguousarray(X[start:start + _BLOCK_ROWS].T)
            missing = np.isnan(block)
            if missing.any():
                present = block.shape[1] - missing.sum(axis=1)
                nulls += block.shape[1] - present
                block_mean = np.where(present > 0, np.nanmean(block, axis=1), 0.0)
                block_m2 = np.nansum((block - block_mean[:, None]) ** 2, axis=1)
                low, high = np.fmin(low, np.nanmin(block, axis=1)), np.fmax(high, np.nanmax(block, axis=1))
            else:
                present = np.full(n_cols, block.shape[1])
                block_mean = block.mean(axis=1)
                deviation = block - block_mean[:, None]
                block_m2 = np.einsum("ij,ij->i", deviation, deviation)
                low, high = np.minimum(low, block.min(axis=1)), np.maximum(high, block.max(axis=1))
            total = count + present
            share = np.where(total > 0, present / np.maximum(total, 1), 0.0)
            delta = block_mean - mean
            mean = mean + delta * share
            m2 = m2 + block_m2 + delta ** 2 * count * share
            count = total
        empty = count == 0
        mean, std = np.where(empty, np.nan, mean), np.where(empty, np.nan, np.sqrt(m2 / count))
        low, high = np.where(empty, np.nan, low), np.where(empty, np.nan, high)
    return nulls, (mean, std, low, high)


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


def probability_column_names(labels):
    """probability_<class> per class, as ml_score names its columns (macros/scoring/prediction_columns_sql.sql,
    probability_column_names): the label lower-cased with other characters as _, or its position if names clash."""
    names = ["probability_" + re.sub("[^a-z0-9]+", "_", label.lower()).strip("_") for label in labels]
    return names if len(set(names)) == len(names) else [f"probability_{index}" for index in range(len(labels))]


def prediction_stats(task, outputs, classes, labels, served_labels, source):
    """The prediction baseline, keyed by the scores column each output becomes: numeric statistics (as
    numeric_training_stats) of `prediction` for regressors and clusterers and of each `probability_<class>` column
    of classifiers with predict_proba; the class shares of a classifier's `prediction` (categories, as for a text
    feature). ``classes`` and ``labels`` are the producing estimator's classes_ and their registry names,
    ``served_labels`` the served version's: a class the evaluated estimator never saw has probability 0.
    Non-finite values count as nulls. Every entry names the rows it describes: source 'holdout' or 'training rows'.
    """
    if not outputs:
        return {}
    predicted = np.asarray(outputs["predicted"])
    if task == "classification":
        positions = np.searchsorted(np.asarray(classes), predicted)  # classes_ is sorted (np.unique)
        stats = {"prediction": _class_shares(positions, labels)}
        if "proba" in outputs:
            proba = np.asarray(outputs["proba"], dtype=np.float64)
            by_label = {label: proba[:, index] for index, label in enumerate(labels)}
            absent = np.zeros(len(predicted))
            names = probability_column_names(served_labels)
            matrix = np.column_stack([by_label.get(label, absent) for label in served_labels])
            stats.update(numeric_training_stats(names, _finite(matrix)))
            for name, label in zip(names, served_labels):
                stats[name]["class"] = label
    elif task == "anomaly_detection":
        stats = numeric_training_stats(["anomaly_score"], _finite(np.asarray(outputs["score"])[:, None]))
    else:
        stats = numeric_training_stats(["prediction"], _finite(predicted.astype(np.float64)[:, None]))
    for entry in stats.values():
        entry["source"] = source
    return stats


def _finite(values):
    return np.where(np.isfinite(values), values, np.nan)


def _class_shares(positions, labels):
    found, counts = np.unique(positions, return_counts=True)
    ranked = np.argsort(-counts, kind="stable")[:_MAX_CATEGORIES]
    return {"count": int(len(positions)), "nulls": 0, "distinct": int(len(found)),
            "categories": {labels[int(found[i])]: float(counts[i] / len(positions)) for i in ranked}}
