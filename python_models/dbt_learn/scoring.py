"""Predicting a batch and writing the predictions as a PostgreSQL binary COPY file.

The file holds one row for the table ``(prediction float8[], class_index int4[], probabilities float8[],
contribution_feature int4[], contribution float8[])``: regressors fill ``prediction``; classifiers and clusterers
fill ``class_index`` (an index into the classes recorded with the version) and, when the estimator has
``predict_proba``, ``probabilities``; outlier detectors fill ``prediction`` with the anomaly score (higher is more
anomalous) and ``class_index`` with 1 for an anomaly, 0 otherwise; ``ml_score(explain=k)`` adds each row's top k
feature contributions (feature positions and values, row-major). numpy builds the arrays' binary
form directly, so no Python object per row is made.
"""

import numpy as np

from .errors import ScoringError

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_TRAILER = b"\xff\xff"
_FLOAT8_OID = 701
_INT4_OID = 23
_NULL = -1


def predict_batch(model, estimator, X, task, feature_names=None, with_probabilities=True, threshold=None):
    """Return ``(prediction or None, class_index or None, probabilities or None)`` for a batch.

    A Pipeline's preprocessing runs once, and a classifier scored with its probabilities is evaluated once: its
    classes come from the probabilities (``class_outputs``).
    """
    from .evaluation import anomaly_scores, predicted_classes

    try:
        final, Xt = preprocessed(estimator, X, task, with_probabilities or threshold is not None)
        if task == "regression":
            return np.asarray(final.predict(Xt), dtype=np.float64).reshape(-1), None, None
        if task == "anomaly_detection":
            flagged = (np.asarray(final.predict(Xt)) == -1).astype(np.int32)
            return anomaly_scores(final, Xt), flagged, None
        if task != "classification":
            return None, np.asarray(final.predict(Xt)).astype(np.int32), None
        if not ((with_probabilities or threshold is not None) and hasattr(final, "predict_proba")):
            return None, _class_index(final, final.predict(Xt)), None
        probabilities = np.asarray(final.predict_proba(Xt), dtype=np.float64)
        if threshold is not None:
            class_index = _class_index(final, predicted_classes(final, probabilities, threshold))
        else:
            class_index = class_outputs(final, Xt, probabilities)
        return None, class_index, probabilities if with_probabilities else None
    except ValueError as exc:
        infinite = _columns_with_infinity(X, feature_names) if feature_names else []
        if infinite:  # checked first: scikit-learn's "contains infinity" message also says NaN
            raise ScoringError(
                f"model '{model}': feature column {', '.join(infinite)} has Infinity or -Infinity in "
                f"{_rows_with_infinity(X)} of {len(X)} rows; dbt_learn does not treat it as missing: replace it in "
                f"the scoring model with NULL or a finite cap (least/greatest)."
            ) from None
        if "NaN" in str(exc) and feature_names:
            raise ScoringError(
                f"model '{model}': {type(_final(estimator)).__name__} cannot score missing features; NULL or NaN "
                f"values are in: {', '.join(_columns_with_nan(X, feature_names))}. Fill them (coalesce) in the "
                f"scoring model, retrain with the default meta.preprocessing (it imputes them), or train an "
                f"estimator that handles missing values (hist_gradient_boosting_*)."
            ) from None
        raise ScoringError(f"model '{model}': {type(_final(estimator)).__name__}.predict failed: {exc}") from None


# Classifiers whose predict() is the argmax of a score (or, for two classes, the score's sign) that predict_proba()
# maps into probabilities by an order-keeping function (the probabilities themselves, expit, softmax, a normalisation,
# exp of log-probabilities): the argmax of their probabilities is their prediction, except where rounding makes two
# probabilities (nearly) equal. By exact class: a subclass may predict differently.
LABELS_FROM_PROBABILITIES = frozenset({
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.linear_model._logistic.LogisticRegressionCV",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._gb.GradientBoostingClassifier",
    "sklearn.ensemble._forest.RandomForestClassifier",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.ensemble._bagging.BaggingClassifier",
    "sklearn.tree._classes.DecisionTreeClassifier",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.naive_bayes.GaussianNB",
    "sklearn.naive_bayes.BernoulliNB",
    "sklearn.naive_bayes.MultinomialNB",
    "sklearn.naive_bayes.ComplementNB",
    "sklearn.discriminant_analysis.LinearDiscriminantAnalysis",
    "sklearn.discriminant_analysis.QuadraticDiscriminantAnalysis",
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.calibration.CalibratedClassifierCV",
})
# Rows whose two highest probabilities are closer than this are predicted again with predict(): rounding can order
# (or tie) probabilities differently from the scores they came from only within a few units in the last place.
NEAR_TIE = 1e-9


def labels_follow_probabilities(final):
    cls = type(final)
    return f"{cls.__module__}.{cls.__qualname__}" in LABELS_FROM_PROBABILITIES


def class_outputs(final, X, probabilities):
    """Class indexes (into ``classes_``) of ``final.predict(X)``, given ``final.predict_proba(X)``.

    For the classifiers of LABELS_FROM_PROBABILITIES, the argmax of the probabilities (no second evaluation of the
    model); rows whose top two probabilities are within NEAR_TIE of each other are predicted again, so ties are
    resolved as predict() resolves them (``>= 0`` or ``> 0``, the first or the last class). Other classifiers
    (SVC's Platt-scaled probabilities can disagree with its predict) are predicted with predict().
    """
    if not labels_follow_probabilities(final) or probabilities.ndim != 2 or probabilities.shape[1] < 2 \
            or probabilities.shape[1] != len(final.classes_):
        return _class_index(final, final.predict(X))
    class_index = np.argmax(probabilities, axis=1).astype(np.int32)
    top_two = np.partition(probabilities, -2, axis=1)[:, -2:]
    near = np.flatnonzero(~(top_two[:, 1] - top_two[:, 0] > NEAR_TIE))  # NaN probabilities count as near
    if near.size:
        rows = X.iloc[near] if hasattr(X, "iloc") else X[near]
        class_index[near] = _class_index(final, final.predict(rows))
    return class_index


def _class_index(final, labels):
    return np.searchsorted(np.asarray(final.classes_), np.asarray(labels)).astype(np.int32)


def preprocessed(estimator, X, task, with_probabilities):
    """``(estimator, X)`` to evaluate: a Pipeline's preprocessing applied once, when the final step will be evaluated
    twice (a classifier's probabilities and classes, an outlier detector's scores and flags), and a leading
    SimpleImputer skipped on a batch without missing values (``_imputed``)."""
    if not hasattr(estimator, "steps") or len(estimator.steps) < 2:
        return estimator, X
    done, X = _imputed(estimator.steps[0][1], X)
    twice = task == "anomaly_detection" or (task == "classification" and with_probabilities)
    if twice:
        rest = estimator[done:-1]
        return estimator[-1], (rest.transform(X) if len(rest.steps) else X)
    return (estimator[done:] if done else estimator), X


def _imputed(step, X, copy=True):
    """``(1, what step.transform(X) returns)`` for a fitted SimpleImputer of NaN on a float64 matrix that has no NaN
    (nor infinity, which the imputer refuses): X itself, then a zero column per missing-value indicator. scikit-learn
    validates and copies the whole batch for that (0.2-0.3 s at 1M x 10; the check here reads it once). With
    ``copy=False`` and no indicator column, X itself (the caller's own matrix, to be overwritten by the next steps).
    ``(0, X)`` for anything else: the step then runs as usual."""
    from sklearn.impute import SimpleImputer

    if type(step) is not SimpleImputer or not isinstance(X, np.ndarray) or X.dtype != np.float64 or X.ndim != 2 \
            or not (isinstance(step.missing_values, float) and np.isnan(step.missing_values)) \
            or getattr(step, "n_features_in_", None) != X.shape[1] or hasattr(step, "feature_names_in_") \
            or (not step.keep_empty_features and np.isnan(step.statistics_).any()) or not np.isfinite(X).all():
        return 0, X
    indicator = step.indicator_ if step.add_indicator else None
    if indicator is None or (not copy and isinstance(indicator.features_, np.ndarray) and not len(indicator.features_)
                             and indicator.sparse is not True):
        return 1, X.copy() if copy else X
    if not isinstance(indicator.features_, np.ndarray) or indicator.sparse is True:
        return 0, X
    return 1, np.hstack([X, np.zeros((X.shape[0], len(indicator.features_)))])


def _final(estimator):
    return estimator[-1] if hasattr(estimator, "steps") else estimator


def _numeric_part(X):
    """The float columns of a batch (an array, or a frame's numeric columns) with their names."""
    if hasattr(X, "select_dtypes"):
        numeric = X.select_dtypes("number")
        return numeric.to_numpy(dtype=np.float64), [str(name) for name in numeric.columns]
    return np.asarray(X, dtype=np.float64), None


def _columns_with_infinity(X, feature_names):
    values, names = _numeric_part(X)
    return [name for name, has in zip(names or feature_names, np.isinf(values).any(axis=0)) if has]


def _rows_with_infinity(X):
    return int(np.isinf(_numeric_part(X)[0]).any(axis=1).sum())


def _columns_with_nan(X, feature_names):
    if hasattr(X, "isna"):
        return [str(name) for name in X.columns[X.isna().any().to_numpy()]]
    return [name for name, has_nan in zip(feature_names, np.isnan(X).any(axis=0)) if has_nan]


def copy_arrays(n_rows, prediction=None, class_index=None, probabilities=None, contribution_feature=None,
                contribution=None):
    """The predictions as a binary COPY payload (bytes) of one row ``(float8[], int4[], float8[], int4[],
    float8[])``.

    One array per output, in the order of the batch, so SQL zips them back to the rows with ``unnest``; the
    probabilities are class-major (every row's first class, then every row's second, ...). A missing output is NULL.
    """
    fields = output_fields(n_rows, prediction, class_index, probabilities, contribution_feature, contribution)
    return _COPY_HEADER + np.array(len(fields), ">i2").tobytes() + b"".join(fields) + _COPY_TRAILER


def output_fields(n_rows, prediction=None, class_index=None, probabilities=None, contribution_feature=None,
                  contribution=None):
    """The five output arrays as binary COPY fields, in the column order both scoring tables share (see
    ``copy_arrays`` and ``_score_tables.scores_payload``)."""
    return [_array_field(prediction, ">f8", _FLOAT8_OID, n_rows), _array_field(class_index, ">i4", _INT4_OID, n_rows),
            _array_field(None if probabilities is None else np.asarray(probabilities).T.reshape(-1), ">f8",
                         _FLOAT8_OID, n_rows * (0 if probabilities is None else probabilities.shape[1])),
            _array_field(None if contribution_feature is None else np.ravel(contribution_feature), ">i4", _INT4_OID,
                         0 if contribution_feature is None else np.size(contribution_feature)),
            _array_field(None if contribution is None else np.ravel(contribution), ">f8", _FLOAT8_OID,
                         0 if contribution is None else np.size(contribution))]


def _array_field(values, element_type, element_oid, length):
    """One COPY field: a 1-D array without NULLs in Postgres' binary array format, or a NULL field."""
    if values is None:
        return np.array(_NULL, ">i4").tobytes()
    width = np.dtype(element_type).itemsize
    elements = np.empty(length, dtype=[("len", ">i4"), ("value", element_type)])
    elements["len"] = width
    elements["value"] = values
    header = np.array([20 + (4 + width) * length, 1, 0, element_oid, length, 1], ">i4")
    return header.tobytes() + elements.tobytes()
