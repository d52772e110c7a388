"""The binary COPY file a python_table model's DataFrame becomes, decoded here by an independent reader of the
format (Postgres' documented binary layout) and compared with the frame's own values."""

import datetime
import decimal
import struct

import numpy as np
import pandas as pd
import pytest

from dbt_learn import _frame_copy
from dbt_learn._frame_copy import frame_copy
from dbt_learn.errors import ModelCodeError

EPOCH = datetime.datetime(2000, 1, 1)


def _numeric(raw):
    ndigits, weight, sign, dscale = struct.unpack(">hhHh", raw[:8])
    if sign == 0xC000:
        return decimal.Decimal("NaN")
    digits = struct.unpack(f">{ndigits}H", raw[8:])
    value = sum((decimal.Decimal(d) * decimal.Decimal(10000) ** (weight - i) for i, d in enumerate(digits)),
                decimal.Decimal(0))
    value = value.quantize(decimal.Decimal(1).scaleb(-dscale))
    return -value if sign == 0x4000 else value


DECODE = {
    "bigint": lambda raw: struct.unpack(">q", raw)[0], "integer": lambda raw: struct.unpack(">i", raw)[0],
    "smallint": lambda raw: struct.unpack(">h", raw)[0], "double precision": lambda raw: struct.unpack(">d", raw)[0],
    "real": lambda raw: struct.unpack(">f", raw)[0], "boolean": lambda raw: raw == b"\x01",
    "text": lambda raw: raw.decode("utf-8"), "bytea": bytes, "numeric": _numeric,
    "date": lambda raw: datetime.date(2000, 1, 1) + datetime.timedelta(days=struct.unpack(">i", raw)[0]),
    "timestamp without time zone": lambda raw: EPOCH + datetime.timedelta(microseconds=struct.unpack(">q", raw)[0]),
    "timestamp with time zone": lambda raw: (EPOCH + datetime.timedelta(microseconds=struct.unpack(">q", raw)[0]))
    .replace(tzinfo=datetime.timezone.utc),
}


def decode(columns, payload):
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00" + bytes(8)) and payload.endswith(b"\xff\xff")
    rows, at = [], 19
    while True:
        (count,) = struct.unpack_from(">h", payload, at)
        at += 2
        if count == -1:
            break
        assert count == len(columns)
        row = []
        for column in columns:
            (length,) = struct.unpack_from(">i", payload, at)
            at += 4
            row.append(None if length == -1 else DECODE[column["type"]](payload[at:at + length]))
            at += max(length, 0)
        rows.append(tuple(row))
    assert at == len(payload)
    return rows


def _offline(frame):
    """The frame's values as Python objects, NULL for every pandas missing value (NaN included)."""
    def plain(value):
        if value is None or value is pd.NaT or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
            return None
        if isinstance(value, pd.Timestamp):
            return value.to_pydatetime()
        return value.item() if isinstance(value, np.generic) else value
    return [tuple(plain(v) for v in row) for row in frame.astype(object).itertuples(index=False)]


def test_every_supported_dtype_encodes_to_its_postgres_type_and_values():
    frame = pd.DataFrame({
        "i64": np.array([1, -2, 2**62], np.int64), "i32": np.array([3, -4, 5], np.int32),
        "i16": np.array([1, 2, -3], np.int16), "u8": np.array([0, 255, 7], np.uint8),
        "Int": pd.array([None, 5, -6], dtype="Int64"), "f64": [0.1, np.nan, np.inf], "f32": np.float32([1.5, -2, 0]),
        "Float": pd.array([1.25, None, 3.0], dtype="Float64"), "b": [True, False, True],
        "nb": pd.array([None, True, False], dtype="boolean"),
        "ts": pd.to_datetime(["1999-12-31 23:59:59.999999", None, "2030-06-01 00:00:00.000001"]),
        "tz": pd.to_datetime(["2024-01-01 00:00:00+05:00", None, "1970-01-01 00:00:00+00:00"], utc=True),
        "d": [datetime.date(1999, 12, 31), datetime.date(2000, 1, 1), None],
        "s": ["é ü", None, ""], "o": pd.Series(["x", None, "y"], dtype=object), "c": pd.Categorical([None, "p", "q"]),
        "n": [decimal.Decimal("-0.000123"), decimal.Decimal("98765432109876.5"), None],
        "by": [b"\x00\x01", None, b""], "py_int": pd.Series([1, None, 2**40], dtype=object),
    })
    columns, payload = frame_copy("m", "m.py", frame)
    assert {c["name"]: c["type"] for c in columns} == {
        "i64": "bigint", "i32": "integer", "i16": "smallint", "u8": "smallint", "Int": "bigint",
        "f64": "double precision", "f32": "real", "Float": "double precision", "b": "boolean", "nb": "boolean",
        "ts": "timestamp without time zone", "tz": "timestamp with time zone", "d": "date", "s": "text",
        "o": "text", "c": "text", "n": "numeric", "by": "bytea", "py_int": "bigint"}
    assert decode(columns, payload) == _offline(frame)


@pytest.mark.parametrize("text", ["0", "-0", "1E+5", "0.00012", "12345678.87654321", "-9999.9999", "1.50", "NaN"])
def test_decimals_keep_their_value_and_scale(text):
    columns, payload = frame_copy("m", "m.py", pd.DataFrame({"n": [decimal.Decimal(text)]}))
    [(value,)] = decode(columns, payload)
    expected = decimal.Decimal(text)
    if expected.is_nan():  # missing, as pandas sees it: NULL, like NaN in a float column
        assert value is None
    else:
        assert value == expected and max(-value.as_tuple().exponent, 0) == max(-expected.as_tuple().exponent, 0)


def test_rows_interleave_across_chunks(monkeypatch):
    monkeypatch.setattr(_frame_copy, "_CHUNK_ROWS", 7)
    rng = np.random.default_rng(0)
    n = 101
    words = ["".join(rng.choice(list("abcdé"), size=rng.integers(0, 9))) for _ in range(n)]
    frame = pd.DataFrame({"w": pd.Series(words, dtype=object).where(rng.random(n) > 0.2),
                          "x": np.where(rng.random(n) > 0.3, rng.normal(size=n), np.nan),
                          "k": np.arange(n)})
    columns, payload = frame_copy("m", "m.py", frame)
    assert decode(columns, payload) == _offline(frame)


def test_an_empty_frame_keeps_its_column_types():
    frame = pd.DataFrame({"a": np.array([], np.int64), "b": pd.Series([], dtype="str"),
                          "c": pd.Series([], dtype=float)})
    columns, payload = frame_copy("m", "m.py", frame)
    assert [c["type"] for c in columns] == ["bigint", "text", "double precision"]
    assert decode(columns, payload) == []


@pytest.mark.parametrize("frame, message", [
    (pd.DataFrame({"waited": pd.to_timedelta([1], unit="s")}), "column 'waited' has dtype timedelta64"),
    (pd.DataFrame({"mixed": pd.Series([1, "a"], dtype=object)}), "column 'mixed' has an object column mixing"),
    (pd.DataFrame({"odd": pd.Series([object()], dtype=object)}), "column 'odd' has values of Python type object"),
    (pd.DataFrame({"huge": pd.Series([2**70], dtype=object)}), "column 'huge' has Python integers outside the bigint"),
    (pd.DataFrame({"t": ["a\x00b"]}), "column 't' has text with a NUL character"),
    (pd.DataFrame([[1, 2]], columns=["a", "a"]), "'a' appear more than once"),
    (pd.DataFrame({"x" * 64: [1]}), "cannot be a Postgres column name"),
    (pd.DataFrame(index=[1, 2]), "no columns"),
    (pd.DataFrame({"big": np.array([2**63], np.uint64)}), "column 'big' has uint64 values above the bigint range"),
])
def test_what_cannot_be_stored_is_an_error_naming_the_model_and_column(frame, message):
    with pytest.raises(ModelCodeError) as raised:
        frame_copy("churn_features", "models/churn_features.py", frame)
    assert message in str(raised.value) and "model 'churn_features'" in str(raised.value)


def test_something_else_than_a_dataframe_is_a_clear_error():
    with pytest.raises(ModelCodeError, match=r"model\(\) returned Series; a python_table .* must return a pandas"):
        frame_copy("m", "m.py", pd.Series([1, 2]))
