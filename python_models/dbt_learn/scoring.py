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
    """Return ``(prediction or None, class_index or None, probabilities or None)`` for a batch."""
    from .evaluation import anomaly_scores, predicted_classes

    try:
        if task == "regression":
            return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1), None, None
        if task == "anomaly_detection":
            flagged = (np.asarray(estimator.predict(X)) == -1).astype(np.int32)
            return anomaly_scores(estimator, X), flagged, None
        probabilities = None
        if task == "classification":
            classes = np.asarray(estimator.classes_)
            if (with_probabilities or threshold is not None) and hasattr(estimator, "predict_proba"):
                probabilities = np.asarray(estimator.predict_proba(X), dtype=np.float64)
            labels = (predicted_classes(estimator, probabilities, threshold) if threshold is not None
                      and probabilities is not None else np.asarray(estimator.predict(X)))
            class_index = np.searchsorted(classes, labels)
            if not with_probabilities:
                probabilities = None
        else:
            class_index = np.asarray(estimator.predict(X))
        return None, class_index.astype(np.int32), probabilities
    except ValueError as exc:
        if "NaN" in str(exc) and feature_names:
            raise ScoringError(
                f"model '{model}': {type(_final(estimator)).__name__} cannot score NULL features; NULLs are in: "
                f"{', '.join(_columns_with_nan(X, feature_names))}. Fill them (coalesce) in the scoring model, "
                f"retrain with the default meta.preprocessing (it imputes them), or train an estimator that "
                f"handles missing values (hist_gradient_boosting_*)."
            ) from None
        raise ScoringError(f"model '{model}': {type(_final(estimator)).__name__}.predict failed: {exc}") from None


def _final(estimator):
    return estimator[-1] if hasattr(estimator, "steps") else estimator


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
    fields = [_array_field(prediction, ">f8", _FLOAT8_OID, n_rows), _array_field(class_index, ">i4", _INT4_OID, n_rows),
              _array_field(None if probabilities is None else np.asarray(probabilities).T.reshape(-1), ">f8",
                           _FLOAT8_OID, n_rows * (0 if probabilities is None else probabilities.shape[1]))]
    fields += [_array_field(None if contribution_feature is None else np.ravel(contribution_feature), ">i4", _INT4_OID,
                            0 if contribution_feature is None else np.size(contribution_feature)),
               _array_field(None if contribution is None else np.ravel(contribution), ">f8", _FLOAT8_OID,
                            0 if contribution is None else np.size(contribution))]
    return _COPY_HEADER + np.array(5, ">i2").tobytes() + b"".join(fields) + _COPY_TRAILER


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
