"""Decoding the binary batches that SQL builds with ``string_agg(float8send(...))`` into numpy arrays.

SQL sends every numeric feature as a big-endian float8 (NULL as NaN), row after row, in one bytea; a text feature
arrives as one bytea per column, each value UTF-8 followed by a zero byte (NULL as the single byte 0xff, which UTF-8
never contains; Postgres text never contains a zero byte), so one ``bytes.split`` decodes a column. Nothing here
touches the database, so it is tested without one.
"""

import hashlib

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


_NULL_TEXT = b"\xff"


def decode_text_column(blob, n_rows, *, model, column, error=TrainingDataError):
    """A text column from its zero-terminated wire form: a numpy object array of str, NaN for NULL (scikit-learn's
    encoders take NaN as missing everywhere, None only beside strings: a batch of only NULLs lost its category).

    Only the distinct values are decoded from UTF-8 (pandas.factorize on the raw bytes), so a million rows of a
    few hundred categories cost one split and one hash pass.
    """
    import pandas as pd

    parts = (b"" if blob is None else bytes(blob)).split(b"\x00")
    if len(parts) != n_rows + 1 or parts[-1] != b"":
        raise error(f"model '{model}': received {len(parts) - 1} values of text column '{column}' for {n_rows} rows; "
                    f"the dbt_learn macros and the installed runtime disagree - reinstall both.")
    parts.pop()
    codes, uniques = pd.factorize(np.array(parts, dtype=object), use_na_sentinel=False)
    decoded = np.array([np.nan if value == _NULL_TEXT else value.decode("utf-8") for value in uniques] + [np.nan],
                       dtype=object)
    return decoded[codes] if n_rows else np.empty(0, dtype=object)


def text_keys(columns):
    """One uint64 per row and text column (hashes of the values), for canonical_order and the data fingerprint."""
    import pandas as pd

    return [pd.util.hash_array(np.asarray(column, dtype=object)) for column in columns]


def decode_training_rows(blob, n_rows, n_features, target_kind, *, model, text_columns=()):
    """Split rows of ``n_features`` float8 followed by the target into ``(X, y, fingerprint)``.

    ``target_kind`` is ``"float8"`` (regression), ``"int4"`` (class index, classification) or ``None`` (clustering).
    One aggregate carries features and target together, so they cannot come apart in order. SQL sends the rows in
    scan order (sorting them there cost 0.4 s at 1M rows); they are put in a canonical order here instead, so the
    fit, the split and the sha256 ``fingerprint`` of the rows do not depend on how Postgres read the table.
    """
    blob = memoryview(b"" if blob is None else blob).cast("B")
    fields = [("x", ">f8", (n_features,))]
    if target_kind is not None:
        fields.append(("y", {"float8": ">f8", "int4": ">i4"}[target_kind]))
    dtype = np.dtype(fields)
    if blob.nbytes != dtype.itemsize * n_rows:
        raise TrainingDataError(
            f"model '{model}': received {blob.nbytes} bytes of training rows for {n_rows} rows of {dtype.itemsize} "
            f"bytes; the dbt_learn macros and the installed runtime disagree - reinstall both."
        )
    # take() on opaque fixed-size records is a plain memcpy per row (0.04 s at 1M x 88 bytes; field-wise it was 0.5 s).
    keys = text_keys(text_columns)
    order = canonical_order(blob, n_rows, dtype.itemsize, keys)
    records = np.frombuffer(blob, dtype=f"V{dtype.itemsize}").take(order)
    digest = hashlib.sha256(records.data)
    for key in keys:
        digest.update(key[order].tobytes())
    fingerprint = digest.hexdigest()
    texts = [np.asarray(column, dtype=object)[order] for column in text_columns]
    rows = records.view(dtype)
    X = rows["x"].reshape(n_rows, n_features).astype(np.float64)
    y = None if target_kind is None else rows["y"].astype(np.float64 if target_kind == "float8" else np.int64)
    return X, y, fingerprint, texts


def class_batch(blobs, class_rows, class_indexes, n_features):
    """The rows of a classifier's per-class blobs (features only; blob ``i`` holds ``class_rows[i]`` rows of class
    number ``class_indexes[i]``) as one batch with an int4 class index appended, in the record layout
    ``decode_training_rows`` reads with ``target_kind="int4"``."""
    records = np.empty(sum(class_rows), dtype=[("x", ">f8", (n_features,)), ("y", ">i4")])
    start = 0
    for index, blob, count in zip(class_indexes, blobs, class_rows):
        part = records[start:start + count]
        part["x"] = np.frombuffer(blob, dtype=">f8").reshape(count, n_features)
        part["y"] = index
        start += count
    return records


_MIX = np.uint64(0x9E3779B97F4A7C15)


def canonical_order(blob, n_rows, row_size, extra_keys=()):
    """A permutation that sorts rows by a 64-bit hash of their bytes: the same set of rows always comes out in the
    same order, whatever order it arrived in. Identical rows tie, which cannot matter; two different rows sharing
    a hash (odds about n^2 / 2^64) would keep their arrival order."""
    if n_rows == 0:
        return np.arange(0)
    # 64-bit words where the record allows, a trailing 32-bit word for an int4 class index.
    wide = np.ndarray(buffer=blob, dtype="<u8", shape=(n_rows, row_size // 8), strides=(row_size, 8))
    columns = [wide[:, i] for i in range(wide.shape[1])]
    if row_size % 8:
        columns.append(np.ndarray(buffer=blob, dtype="<u4", shape=(n_rows,), strides=(row_size,),
                                  offset=row_size - 4).astype(np.uint64))
    columns += [np.asarray(key, dtype=np.uint64) for key in extra_keys]
    digest = np.zeros(n_rows, dtype=np.uint64)
    shifted = np.empty(n_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:  # in place: no temporaries of n_rows per step
            np.bitwise_xor(digest, column, out=digest)
            np.multiply(digest, _MIX, out=digest)
            np.right_shift(digest, np.uint64(29), out=shifted)
            np.bitwise_xor(digest, shifted, out=digest)
    return np.argsort(digest, kind="stable")


def feature_frame(features, numeric, texts):
    """A pandas DataFrame with the feature columns by name in training order: numeric and datetime columns from the
    float64 matrix, categorical ones from the decoded text columns (object arrays)."""
    import pandas as pd

    columns = {}
    numeric_iter = iter(range(numeric.shape[1]))
    text_iter = iter(texts)
    for feature in features:
        if feature["kind"] == "categorical":
            columns[feature["name"]] = next(text_iter)
        else:
            columns[feature["name"]] = numeric[:, next(numeric_iter)]
    return pd.DataFrame(columns, index=pd.RangeIndex(numeric.shape[0]), copy=False)
