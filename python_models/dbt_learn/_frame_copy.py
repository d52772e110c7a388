"""A DataFrame as one binary COPY file: its columns' Postgres types and the bytes ``COPY ... (FORMAT binary)`` reads.

The rows are interleaved with numpy (no Python loop over rows except to encode text and Decimal values), a chunk
of rows at a time so the index arrays stay small.
"""

import numpy as np

from ._frame_columns import encode_column
from .errors import ModelCodeError
from .scoring import _COPY_HEADER, _COPY_TRAILER

_CHUNK_ROWS = 16_384
_MAX_IDENTIFIER_BYTES = 63  # Postgres' NAMEDATALEN - 1: longer names are silently truncated


def frame_copy(model, filename, frame):
    """``(columns, payload)``: ``columns`` a list of ``{"name", "type"}`` in the frame's order."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise ModelCodeError(f"model '{model}' ({filename}): model() returned {type(frame).__name__}; a "
                             f"python_table or python_incremental model must return a pandas DataFrame.")
    names = check_column_names(model, frame.columns)
    columns, encoded = [], []
    for position, name in enumerate(names):
        pg_type, fields = encode_column(model, name, frame.iloc[:, position])
        columns.append({"name": name, "type": pg_type})
        encoded.append(fields)
    return columns, _COPY_HEADER + copy_rows(len(frame), encoded) + _COPY_TRAILER


def check_column_names(model, columns):
    """Column names as Postgres will keep them: text, unique, non-empty and not truncated. The index is not stored."""
    import pandas as pd

    if isinstance(columns, pd.MultiIndex):
        raise ModelCodeError(f"model '{model}': model() returned a DataFrame with MultiIndex columns; flatten them "
                             f"(e.g. frame.columns = ['_'.join(map(str, c)) for c in frame.columns]).")
    names = [str(name) for name in columns]
    if not names:
        raise ModelCodeError(f"model '{model}': model() returned a DataFrame with no columns; return at least one.")
    for name in names:
        if not name or len(name.encode("utf-8")) > _MAX_IDENTIFIER_BYTES or "\x00" in name:
            raise ModelCodeError(f"model '{model}': column {name!r} cannot be a Postgres column name (1 to "
                                 f"{_MAX_IDENTIFIER_BYTES} bytes, no NUL); rename it in model().")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ModelCodeError(f"model '{model}': column(s) {', '.join(map(repr, duplicates))} appear more than once "
                             f"in the DataFrame model() returned; rename or drop the duplicates.")
    return names


def copy_rows(n_rows, encoded):
    """The COPY rows of ``n_rows`` rows from each column's ``(header, lengths, data)``."""
    count = np.frombuffer(np.array(len(encoded), ">i2").tobytes(), np.uint8)
    parts = [(np.full(n_rows, 2, np.int64), np.tile(count, n_rows))]
    for header, lengths, data in encoded:
        parts.append((np.full(n_rows, 4, np.int64), np.ascontiguousarray(header, ">i4").view(np.uint8)))
        parts.append((np.asarray(lengths, np.int64), data))
    if n_rows == 0:
        return b""
    parts = _merge_fixed_width(parts, n_rows)
    offsets = [np.concatenate(([0], np.cumsum(lengths))) for lengths, _ in parts]
    chunks = []
    for start in range(0, n_rows, _CHUNK_ROWS):
        stop = min(start + _CHUNK_ROWS, n_rows)
        chunk = [(lengths[start:stop], data[offset[start]:offset[stop]])
                 for (lengths, data), offset in zip(parts, offsets)]
        chunks.append(_interleave(chunk))
    return b"".join(chunks)


def _merge_fixed_width(parts, n_rows):
    """Neighbouring parts of one width in every row (the count, a column without NULLs) become one part: a column
    of numbers without NULLs then costs no scattering at all."""
    runs = []  # [fixed, [parts]]
    for lengths, data in parts:
        fixed = bool((lengths == lengths[0]).all())
        if fixed and runs and runs[-1][0]:
            runs[-1][1].append((lengths, data))
        else:
            runs.append([fixed, [(lengths, data)]])
    merged = []
    for fixed, run in runs:
        if fixed and len(run) > 1:
            data = np.hstack([data.reshape(n_rows, -1) for _, data in run]).ravel()
            run = [(sum(lengths for lengths, _ in run), data)]
        merged.extend(run)
    return merged


def _interleave(parts):
    """Row by row, part after part: part j of row i goes after parts 0..j-1 of row i."""
    if len(parts) == 1:
        return parts[0][1].tobytes()
    lengths = np.stack([part_lengths for part_lengths, _ in parts], axis=1)
    flat_lengths = lengths.ravel()
    starts = (np.cumsum(flat_lengths) - flat_lengths).reshape(lengths.shape)
    out = np.empty(int(flat_lengths.sum()), np.uint8)
    for j, (part_lengths, data) in enumerate(parts):
        if data.size:
            begins_in_data = np.cumsum(part_lengths) - part_lengths
            out[np.repeat(starts[:, j] - begins_in_data, part_lengths) + np.arange(data.size)] = data
    return out.tobytes()
