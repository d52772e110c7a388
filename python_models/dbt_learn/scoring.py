"""Predicting a batch and writing the predictions as a PostgreSQL binary COPY file.

The file matches the table ``(row_number int8, prediction float8, class_index int4, probabilities float8[])``:
regressors fill ``prediction``; classifiers and clusterers fill ``class_index`` (an index into the classes recorded
with the version) and, when the estimator has ``predict_proba``, ``probabilities``. Building the rows with one numpy
structured array keeps Python objects off the hot path.
"""

import numpy as np

from .errors import ScoringError

_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
_COPY_TRAILER = b"\xff\xff"
_FLOAT8_OID = 701
_NULL = -1


def predict_batch(model, estimator, X, task, feature_names=None):
    """Return ``(prediction or None, class_index or None, probabilities or None)`` for a batch."""
    try:
        if task == "regression":
            return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1), None, None
        labels = np.asarray(estimator.predict(X))
        probabilities = None
        if task == "classification":
            classes = np.asarray(estimator.classes_)
            class_index = np.searchsorted(classes, labels)
            if hasattr(estimator, "predict_proba"):
                probabilities = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        else:
            class_index = labels
        return None, class_index.astype(np.int32), probabilities
    except ValueError as exc:
        if "NaN" in str(exc) and feature_names:
            raise ScoringError(
                f"model '{model}': {type(estimator).__name__} cannot score NULL features; NULLs are in: "
                f"{', '.join(_columns_with_nan(X, feature_names))}. Fill them (coalesce) in the scoring model or "
                f"train an estimator that handles missing values (hist_gradient_boosting_*)."
            ) from None
        raise ScoringError(f"model '{model}': {type(estimator).__name__}.predict failed: {exc}") from None


def _columns_with_nan(X, feature_names):
    if hasattr(X, "isna"):
        return [str(name) for name in X.columns[X.isna().any().to_numpy()]]
    return [name for name, has_nan in zip(feature_names, np.isnan(X).any(axis=0)) if has_nan]


def copy_rows(n_rows, prediction=None, class_index=None, probabilities=None):
    """The predictions as one binary COPY payload (bytes), row_number counting from 1."""
    fields = [("n_fields", ">i2"), ("rn_len", ">i4"), ("row_number", ">i8"), ("pred_len", ">i4")]
    if prediction is not None:
        fields.append(("prediction", ">f8"))
    fields.append(("class_len", ">i4"))
    if class_index is not None:
        fields.append(("class_index", ">i4"))
    fields.append(("proba_len", ">i4"))
    n_classes = 0
    if probabilities is not None:
        n_classes = probabilities.shape[1]
        fields += [("ndim", ">i4"), ("has_null", ">i4"), ("elem_oid", ">i4"), ("dim", ">i4"), ("lbound", ">i4"),
                   ("proba", [("len", ">i4"), ("value", ">f8")], (n_classes,))]
    rows = np.empty(n_rows, dtype=np.dtype(fields))
    rows["n_fields"] = 4
    rows["rn_len"] = 8
    rows["row_number"] = np.arange(1, n_rows + 1)
    rows["pred_len"] = 8 if prediction is not None else _NULL
    if prediction is not None:
        rows["prediction"] = prediction
    rows["class_len"] = 4 if class_index is not None else _NULL
    if class_index is not None:
        rows["class_index"] = class_index
    if probabilities is not None:
        rows["proba_len"] = 20 + 12 * n_classes
        rows["ndim"], rows["has_null"], rows["elem_oid"] = 1, 0, _FLOAT8_OID
        rows["dim"], rows["lbound"] = n_classes, 1
        rows["proba"]["len"] = 8
        rows["proba"]["value"] = probabilities
    else:
        rows["proba_len"] = _NULL
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER
