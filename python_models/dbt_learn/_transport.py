"""Decoding the binary batches that SQL builds with ``string_agg(float8send(...))`` into numpy arrays.

SQL sends every numeric feature as a big-endian float8 (NULL as NaN), row after row, in one bytea; a text feature
arrives as one bytea per column, each value UTF-8 followed by a zero byte (NULL as the single byte 0xff, which UTF-8
never contains; Postgres text never contains a zero byte), so one ``bytes.split`` decodes a column. Nothing here
touches the database, so it is tested without one.
"""

import numpy as np

from .errors import TrainingDataError


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
    """Split one blob of rows of ``n_features`` float8 followed by the target into ``(X, y, fingerprint, texts)``.

    ``target_kind`` is ``"float8"`` (regression), ``"int4"`` (class index, classification) or ``None`` (clustering).
    The rows come out in the canonical order of ``_training_rows.decode`` (sorted by a hash of their bytes and text
    values), so the fit, the split and the sha256 ``fingerprint`` do not depend on how Postgres read the table.
    The runtime's own paths fill ``RowBlocks`` directly; this form serves tests and offline reproductions.
    """
    from ._training_rows import RowBlocks, decode

    blob = memoryview(b"" if blob is None else blob).cast("B")
    itemsize = 8 * n_features + {"float8": 8, "int4": 4, None: 0}[target_kind]
    if blob.nbytes != itemsize * n_rows:
        raise TrainingDataError(
            f"model '{model}': received {blob.nbytes} bytes of training rows for {n_rows} rows of {itemsize} "
            f"bytes; the dbt_learn macros and the installed runtime disagree - reinstall both."
        )
    blocks = RowBlocks(n_features, target_kind == "float8", model=model)
    classes = None
    if target_kind == "int4":
        records = np.frombuffer(blob, dtype=[("x", ">f8", (n_features,)), ("y", ">i4")])
        blocks.add(np.ascontiguousarray(records["x"]).tobytes(), n_rows)
        classes = records["y"].astype(np.int64)
    else:
        blocks.add(blob, n_rows)
    return decode(blocks, target_kind, classes=classes, text_columns=text_columns)


def class_batch(blobs, class_rows, class_indexes, n_features):
    """The rows of a classifier's per-class blobs (features only; blob ``i`` holds ``class_rows[i]`` rows of class
    number ``class_indexes[i]``) as one batch with an int4 class index appended, in the record layout
    ``decode_training_rows`` reads with ``target_kind="int4"`` (for tests: the runtime fills RowBlocks per blob)."""
    records = np.empty(sum(class_rows), dtype=[("x", ">f8", (n_features,)), ("y", ">i4")])
    start = 0
    for index, blob, count in zip(class_indexes, blobs, class_rows):
        part = records[start:start + count]
        part["x"] = np.frombuffer(blob, dtype=">f8").reshape(count, n_features)
        part["y"] = index
        start += count
    return records


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
