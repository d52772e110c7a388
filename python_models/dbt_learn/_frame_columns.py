"""The Postgres type of each column of a DataFrame a python_table model returns, and its values in binary COPY form.

Each encoder returns ``(header, lengths, data)`` for one column: ``header`` the COPY field length per row (-1 for
NULL), ``lengths`` the bytes of data per row, ``data`` those bytes concatenated in row order (uint8). NaN in a float
column is NULL: pandas uses NaN as its missing value there (a left join, ``reindex``), and ``dbt.ref()`` reads NULL
as NaN, so the two directions agree.
"""

import datetime
import decimal
import struct

import numpy as np

from .errors import ModelCodeError

# Postgres' binary epoch for dates and timestamps.
_EPOCH_DAYS = datetime.date(2000, 1, 1).toordinal()
_EPOCH_US = 946_684_800_000_000
_INT_TYPES = {1: ("smallint", ">i2"), 2: ("smallint", ">i2"), 4: ("integer", ">i4"), 8: ("bigint", ">i8")}
_UINT_TYPES = {1: ("smallint", ">i2"), 2: ("integer", ">i4"), 4: ("bigint", ">i8"), 8: ("bigint", ">i8")}


def encode_column(model, name, series):
    """``(pg_type, (header, lengths, data))`` for one column."""
    import pandas as pd

    dtype = series.dtype
    valid = series.notna().to_numpy(dtype=bool)
    if isinstance(dtype, pd.CategoricalDtype):
        return "text", _text(model, name, series.astype(object).to_numpy(), valid)
    if isinstance(dtype, pd.DatetimeTZDtype):
        utc = series.dt.tz_convert("UTC").dt.tz_localize(None)
        return "timestamp with time zone", _timestamps(utc, valid)
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean", _fixed(series.to_numpy(dtype=bool, na_value=False), valid, ">u1")
    if pd.api.types.is_integer_dtype(dtype):
        return _integers(model, name, series, valid)
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        single = np.dtype(getattr(dtype, "numpy_dtype", dtype)).itemsize == 4
        return ("real" if single else "double precision"), _fixed(values, valid & ~np.isnan(values),
                                                                  ">f4" if single else ">f8")
    if pd.api.types.is_datetime64_dtype(dtype):
        return "timestamp without time zone", _timestamps(series, valid)
    if pd.api.types.is_string_dtype(dtype) and not isinstance(dtype, np.dtype):  # str, string[pyarrow]
        return "text", _text(model, name, series.astype(object).to_numpy(), valid)
    if isinstance(dtype, np.dtype) and dtype.kind == "O":
        return _objects(model, name, series, valid)
    raise _unsupported(model, name, f"dtype {dtype}")


def _integers(model, name, series, valid):
    dtype = np.dtype(getattr(series.dtype, "numpy_dtype", series.dtype))
    pg_type, wire = (_UINT_TYPES if dtype.kind == "u" else _INT_TYPES)[dtype.itemsize]
    if dtype == np.uint64 and (series.to_numpy(dtype=np.uint64, na_value=0) > np.iinfo(np.int64).max).any():
        raise _unsupported(model, name, "uint64 values above the bigint range")
    return pg_type, _fixed(series.to_numpy(dtype=np.int64, na_value=0), valid, wire)


def _objects(model, name, series, valid):
    """An object column: its type follows the Python values in it (all of one kind, or the model must convert)."""
    import pandas as pd

    present = series[valid]
    kinds = {_kind(value) for value in present}
    if not kinds or kinds == {"text"}:
        return "text", _text(model, name, series.to_numpy(), valid)
    found = ", ".join(sorted({type(value).__name__ for value in present}))
    if len(kinds) > 1:
        raise _unsupported(model, name, f"an object column mixing Python types {found}")
    kind = kinds.pop()
    if kind is None:
        raise _unsupported(model, name, f"values of Python type {found}")
    if kind == "boolean":
        return "boolean", _fixed(series.where(valid, False).to_numpy(dtype=bool), valid, ">u1")
    if kind == "integer":
        try:
            as_int = pd.array(series.where(valid, None).tolist(), dtype="Int64")
        except (OverflowError, TypeError, ValueError):
            raise _unsupported(model, name, "Python integers outside the bigint range") from None
        return "bigint", _fixed(as_int.to_numpy(dtype=np.int64, na_value=0), valid, ">i8")
    if kind == "float":
        values = series.where(valid, np.nan).to_numpy(dtype=np.float64)
        return "double precision", _fixed(values, valid & ~np.isnan(values), ">f8")
    if kind == "numeric":
        return "numeric", _variable([_numeric_bytes(v) if ok else b"" for v, ok in zip(series, valid)], valid)
    if kind == "date":
        days = np.array([v.toordinal() - _EPOCH_DAYS if ok else 0 for v, ok in zip(series, valid)], np.int64)
        return "date", _fixed(days, valid, ">i4")
    if kind == "bytes":
        return "bytea", _variable([bytes(v) if ok else b"" for v, ok in zip(series, valid)], valid)
    aware = {getattr(value, "tzinfo", None) is not None for value in present}
    if len(aware) > 1:
        raise _unsupported(model, name, "datetimes with and without a time zone in one column")
    stamps = pd.to_datetime(series, utc=aware.pop())
    return encode_column(model, name, stamps)


def _kind(value):
    if isinstance(value, str):
        return "text"
    if isinstance(value, (bool, np.bool_)):
        return "boolean"
    if isinstance(value, (int, np.integer)):
        return "integer"
    if isinstance(value, (float, np.floating)):
        return "float"
    if isinstance(value, decimal.Decimal):
        return "numeric"
    if isinstance(value, (datetime.datetime, np.datetime64)):
        return "timestamp"
    if isinstance(value, datetime.date):
        return "date"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "bytes"
    return None


def _unsupported(model, name, what):
    return ModelCodeError(
        f"model '{model}': column '{name}' has {what}, which a python_table model cannot store; convert it in "
        f"model() to one of: integers, floats, booleans, text, category, datetime (naive or tz-aware), "
        f"datetime.date, decimal.Decimal or bytes.")


def _fixed(values, valid, wire):
    """A fixed-width column: ``values`` as the big-endian ``wire`` dtype, NULL where not ``valid``."""
    width = np.dtype(wire).itemsize
    matrix = np.ascontiguousarray(values, dtype=wire).view(np.uint8).reshape(len(values), width)
    if valid.all():
        return np.full(len(values), width), np.full(len(values), width), matrix.ravel()
    return np.where(valid, width, -1), np.where(valid, width, 0), matrix[valid].ravel()


def _variable(encoded, valid):
    lengths = np.fromiter(map(len, encoded), np.int64, len(encoded))
    data = np.frombuffer(b"".join(encoded), np.uint8)
    return np.where(valid, lengths, -1), lengths, data


def _text(model, name, values, valid):
    strings = [str(value) if ok else "" for value, ok in zip(values, valid)]
    joined = "".join(strings)
    if joined.isascii():  # one encode for the whole column: characters are bytes
        lengths = np.fromiter(map(len, strings), np.int64, len(strings))
        header, data = np.where(valid, lengths, -1), np.frombuffer(joined.encode("ascii"), np.uint8)
    else:
        header, lengths, data = _variable([string.encode("utf-8") for string in strings], valid)
    if (data == 0).any():
        raise ModelCodeError(f"model '{model}': column '{name}' has text with a NUL character (\\x00), which "
                             f"Postgres text cannot hold; remove it in model() (e.g. .str.replace('\\x00', '')).")
    return header, lengths, data


def _timestamps(series, valid):
    """Microseconds since 2000-01-01 (UTC for timestamptz); finer digits are dropped, as Postgres keeps µs."""
    micros = series.to_numpy().astype("datetime64[us]").view(np.int64)
    return _fixed(np.where(valid, micros - _EPOCH_US, 0), valid, ">i8")


def _numeric_bytes(value):
    """``numeric``'s binary form: int16 ndigits, weight, sign, dscale, then base-10000 digits."""
    if value.is_nan():
        return struct.pack(">hhHh", 0, 0, 0xC000, 0)
    if value.is_infinite():
        return struct.pack(">hhHh", 0, 0, 0xF000 if value < 0 else 0xD000, 0)
    sign, digits, exponent = value.as_tuple()
    text = "".join(map(str, digits)) + "0" * max(exponent, 0)
    scale = max(-exponent, 0)
    whole = len(text) - scale
    if whole < 0:
        text, whole = "0" * -whole + text, 0
    pad_left = -whole % 4
    text = "0" * pad_left + text + "0" * (-scale % 4)
    groups = [int(text[i:i + 4]) for i in range(0, len(text), 4)]
    weight = (whole + pad_left) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        return struct.pack(">hhHh", 0, 0, 0, scale)
    return struct.pack(f">hhHh{len(groups)}H", len(groups), weight, 0x4000 if sign else 0, scale, *groups)
