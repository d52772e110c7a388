"""Row-level fast paths: one row scored with the fitted parameters in plain Python floats, without scikit-learn's
per-call validation (check_array, feature-name and tag checks: 0.1-0.8 ms of a one-row predict) and without numpy
(a dozen small numpy calls cost ~60 µs in a backend between requests, their caches cold; plain floats ~10 µs).

Covered: a Pipeline of passthrough / SimpleImputer / StandardScaler steps (or none) before a single-target linear
regressor of sklearn.linear_model, a LogisticRegression, or a HistGradientBoosting regressor or classifier without
categorical splits. Imputing, scaling and the trees repeat the estimator's own operations exactly; dot products
are summed with math.fsum, and exp/expit/softmax come from libm, so results equal ``estimator.predict`` /
``predict_proba`` to rounding. ``build`` checks that on probe rows (to 1e-12, classes exactly) and returns None for
anything else or any difference; callers then take the generic path. So do rows with an infinity, or with a NULL
the model cannot take: the generic path raises the estimator's own error.
"""

import math
from operator import mul

import numpy as np

TOLERANCE = 1e-12


class RowPredictor:
    """``value(row)`` (regressors), ``class_index(row)`` and ``proba(row)`` (classifiers) of one row: a list of
    floats in training order, NaN for NULL. ``takes(row)`` says whether the fast path may score it."""

    def __init__(self, steps, final, nan_ok):
        self.steps, self.final, self.nan_ok = steps, final, nan_ok

    def takes(self, row):
        if all(map(math.isfinite, row)):
            return True
        return self.nan_ok and not any(map(math.isinf, row))

    def _transformed(self, row):
        for step in self.steps:
            row = step(row)
        return row

    def value(self, row):
        return self.final.value(self._transformed(row))

    def class_index(self, row):
        return self.final.class_index(self._transformed(row))

    def proba(self, row):
        return self.final.proba(self._transformed(row))


def _floats(values):
    return [float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1)]


def _imputer(step):
    """SimpleImputer on NaN: each NaN becomes its column's statistic; the missing-indicator columns (1.0 where the
    value was missing) follow, as SimpleImputer.transform stacks them."""
    from sklearn.impute import SimpleImputer

    if type(step) is not SimpleImputer or not (isinstance(step.missing_values, float)
                                               and math.isnan(step.missing_values)):
        return None
    try:  # transform casts them to the input's dtype (the "constant" strategy keeps them as objects)
        statistics = np.asarray(step.statistics_).astype(np.float64)
    except (TypeError, ValueError):
        return None
    if np.isnan(statistics).any():  # all-NaN columns are dropped: not covered
        return None
    statistics = _floats(statistics)
    indicator = getattr(step, "indicator_", None) if step.add_indicator else None
    if indicator is not None and indicator.sparse not in ("auto", False):
        return None
    columns = None if indicator is None else [int(j) for j in indicator.features_]

    def impute(row):
        missing = [v != v for v in row]
        if True in missing:
            row = [s if m else v for v, s, m in zip(row, statistics, missing)]
        if columns is not None:
            row = row + [1.0 if missing[j] else 0.0 for j in columns]
        return row

    return impute


def _scaler(step):
    """StandardScaler: X -= mean_, then X /= scale_, element by element."""
    from sklearn.preprocessing import StandardScaler

    if type(step) is not StandardScaler:
        return None
    mean = _floats(step.mean_) if step.with_mean else None
    scale = _floats(step.scale_) if step.with_std else None

    def standardize(row):
        if mean is not None and scale is not None:
            return [(v - m) / s for v, m, s in zip(row, mean, scale)]
        if mean is not None:
            return [v - m for v, m in zip(row, mean)]
        return row if scale is None else [v / s for v, s in zip(row, scale)]

    return standardize


def _expit(x):
    try:
        return 1.0 / (1.0 + math.exp(-x))  # scipy.special.expit's formula
    except OverflowError:
        return 0.0


def _softmax(scores):
    """sklearn.utils.extmath.softmax of one row: minus the max, exp, divided by the sum."""
    top = max(scores)
    exps = [math.exp(s - top) for s in scores]
    total = sum(exps)
    return [e / total for e in exps]


class _LinearRegressor:
    def __init__(self, estimator):
        self.coef, self.intercept = _floats(estimator.coef_), float(np.reshape(estimator.intercept_, -1)[0])

    def value(self, row):
        return math.fsum(map(mul, self.coef, row)) + self.intercept


def _linear_regressor(estimator):
    """A single-target scikit-learn linear regressor, whose predict is X @ coef_ + intercept_ (the probe rows
    confirm it, and reject the generalised linear models, whose predict is not)."""
    from sklearn.base import is_regressor

    coef = getattr(estimator, "coef_", None)
    if not (type(estimator).__module__.startswith("sklearn.linear_model") and is_regressor(estimator)
            and isinstance(coef, np.ndarray) and coef.ndim == 1 and coef.dtype == np.float64
            and np.size(getattr(estimator, "intercept_", None)) == 1):
        return None
    return _LinearRegressor(estimator)


class _Logistic:
    """decision = X @ coef_.T + intercept_; binary: class 1 where it is > 0, probabilities 1 - expit, expit;
    multiclass: argmax and softmax (LogisticRegression.predict / predict_proba)."""

    def __init__(self, estimator):
        self.coef = [_floats(c) for c in estimator.coef_]
        self.intercept = _floats(estimator.intercept_)
        self.binary = estimator.classes_.size <= 2

    def _scores(self, row):
        return [math.fsum(map(mul, c, row)) + b for c, b in zip(self.coef, self.intercept)]

    def class_index(self, row):
        scores = self._scores(row)
        return int(scores[0] > 0) if len(scores) == 1 else max(range(len(scores)), key=scores.__getitem__)

    def proba(self, row):
        scores = self._scores(row)
        if self.binary:
            p = _expit(scores[0])
            return [1 - p, p]
        return _softmax(scores)


def _logistic(estimator):
    from sklearn.linear_model import LogisticRegression

    if not isinstance(estimator, LogisticRegression) or not isinstance(estimator.coef_, np.ndarray):
        return None
    return _Logistic(estimator)


def _final(estimator):
    """(fast final step or None, whether it takes NaN)."""
    from ._row_trees import hist_gradient_boosting

    for make, nan_ok in ((_linear_regressor, False), (_logistic, False), (hist_gradient_boosting, True)):
        final = make(estimator)
        if final is not None:
            return final, nan_ok
    return None, False


def build(estimator, task, n_features):
    """A checked RowPredictor for ``estimator`` (as stored: a Pipeline or a bare estimator) taking ``n_features``
    floats, or None when no fast path covers it or the probe rows disagree with the estimator."""
    from sklearn.pipeline import Pipeline

    if task not in ("regression", "classification") or getattr(estimator, "n_features_in_", n_features) != n_features:
        return None
    steps, final_estimator, nan_possible = [], estimator, True
    if isinstance(estimator, Pipeline):
        for _, step in estimator.steps[:-1]:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            fast = _imputer(step)
            if fast is not None:
                nan_possible = False
            else:
                fast = _scaler(step)
            if fast is None:
                return None
            steps.append(fast)
        final_estimator = estimator.steps[-1][1]
    final, final_takes_nan = _final(final_estimator)
    if final is None:
        return None
    predictor = RowPredictor(steps, final, nan_ok=not nan_possible or final_takes_nan)
    try:
        agrees = _agrees(predictor, estimator, task, probe_rows(final_estimator, n_features, predictor.nan_ok))
    except Exception:  # noqa: BLE001 - any surprise in a fast path means: use the estimator itself
        return None
    return predictor if agrees else None


def probe_rows(final_estimator, n_features, with_nan):
    """Rows to compare the fast path with the estimator on: zeros, ones, random rows at several scales, rows at
    the split thresholds of tree ensembles, and (when the model takes them) rows with NaN."""
    rng = np.random.default_rng(0)
    rows = [np.zeros(n_features), np.ones(n_features), -np.ones(n_features)]
    rows += list(rng.normal(size=(12, n_features)) * np.repeat([0.1, 1, 10, 1000], 3)[:, None])
    thresholds = [[] for _ in range(n_features)]
    for iteration in getattr(final_estimator, "_predictors", None) or []:
        for tree in iteration:
            for node in tree.nodes[tree.nodes["is_leaf"] == 0]:
                thresholds[int(node["feature_idx"])].append(float(node["num_threshold"]))
    if any(thresholds):
        rows += [[rng.choice(t) if t else rng.normal() for t in thresholds] for _ in range(12)]
    X = np.array(rows, dtype=np.float64)
    if with_nan:
        holes = X[: len(X) // 2].copy()
        holes[rng.random(holes.shape) < 0.4] = np.nan
        X = np.vstack([X, holes, np.full((1, n_features), np.nan)])
    return X


def _agrees(predictor, estimator, task, X):
    rows = [[float(v) for v in x] for x in X]
    if task == "regression":
        expected = np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1)
        return _close(np.array([predictor.value(r) for r in rows]), expected)
    classes = np.asarray(estimator.classes_)
    expected_index = np.searchsorted(classes, np.asarray(estimator.predict(X)))
    if [predictor.class_index(r) for r in rows] != expected_index.tolist():
        return False
    expected = np.asarray(estimator.predict_proba(X), dtype=np.float64)
    got = np.array([predictor.proba(r) for r in rows])
    return got.shape == expected.shape and _close(got, expected)


def _close(got, expected):
    return bool(np.all(np.abs(got - expected) <= TOLERANCE * np.maximum(1.0, np.abs(expected))))
