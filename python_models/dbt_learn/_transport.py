"""Decoding the binary batches that SQL builds with ``string_agg(float8send(...))`` into numpy arrays.

SQL sends every numeric feature as a big-endian float8 (NULL as NaN), row after row, in one bytea; categorical
features arrive as one 2-D text array. Nothing here touches the database, so it is tested without one.
"""

import numpy as np

from .errors import ScoringError, TrainingDataError


def decode_float_matrix(blob, n_rows, n_cols, *, model, error=TrainingDataError):
    """Return a native float64 array of shape (n_rows, n_cols) from a big-endian float8 bytea."""
    blob = b"" if blob is None else blob
    expected = 8 * n_rows * n_cols
    if len(blob) != expected:
        raise error(
            f"model '{model}': received {len(blob)} bytes of features for {n_rows} rows x {n_cols} columns "
            f"(expected {expected}); the dbt_learn macros and the installed runtime disagree - reinstall both."
        )
    return np.frombuffer(blob, dtype=">f8").reshape(n_rows, n_cols).astype(np.float64)


def decode_training_rows(blob, n_rows, n_features, target_kind, *, model):
    """Split rows of ``n_features`` float8 followed by the target into ``(X, y)``.

    ``target_kind`` is ``"float8"`` (regression), ``"int4"`` (class index, classification) or ``None`` (clustering).
    One aggregate carries features and target together, so they cannot come apart in order.
    """
    blob = b"" if blob is None else blob
    fields = [("x", ">f8", (n_features,))]
    if target_kind is not None:
        fields.append(("y", {"float8": ">f8", "int4": ">i4"}[target_kind]))
    dtype = np.dtype(fields)
    if len(blob) != dtype.itemsize * n_rows:
        raise TrainingDataError(
            f"model '{model}': received {len(blob)} bytes of training rows for {n_rows} rows of {dtype.itemsize} "
            f"bytes; the dbt_learn macros and the installed runtime disagree - reinstall both."
        )
    rows = np.frombuffer(blob, dtype=dtype)
    X = rows["x"].reshape(n_rows, n_features).astype(np.float64)
    if target_kind is None:
        return X, None
    return X, rows["y"].astype(np.float64 if target_kind == "float8" else np.int64)


def text_matrix(rows, n_rows, n_cols, *, model, error=ScoringError):
    """A 2-D text[] (a list of row lists from PL/Python) as an object array of shape (n_rows, n_cols)."""
    if n_cols == 0:
        return np.empty((n_rows, 0), dtype=object)
    array = np.array(rows if rows is not None else [], dtype=object)
    if array.shape != (n_rows, n_cols):
        raise error(f"model '{model}': received categorical features of shape {array.shape}, "
                    f"expected ({n_rows}, {n_cols}).")
    return array


def feature_frame(features, numeric, categorical):
    """A pandas DataFrame with the feature columns in training order, for estimators fitted on frames."""
    import pandas as pd

    columns = {}
    numeric_iter = iter(range(numeric.shape[1]))
    categorical_iter = iter(range(categorical.shape[1]))
    for feature in features:
        if feature["kind"] == "categorical":
            columns[feature["name"]] = categorical[:, next(categorical_iter)]
        else:
            columns[feature["name"]] = numeric[:, next(numeric_iter)]
    return pd.DataFrame(columns)
