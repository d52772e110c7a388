"""The streaming scorer's byte handling, without a database: rows of features and fixed-width ids split back into
the feature matrix and binary array elements, NULL ids included, and the COPY row that carries a chunk."""

import struct

import numpy as np
import pytest

from dbt_learn._score_tables import scores_payload
from dbt_learn._streaming import _chunk_bytes, _Chunk, _Layout
from dbt_learn.errors import ScoringError


def _element(value, fmt):
    return struct.pack(">i", -1) if value is None else struct.pack(">i", struct.calcsize(fmt)) + struct.pack(fmt, value)


def _row(features, ids):
    """What scoring_sql's row_bytes gives: float8 features, then each id as (length, bytes) with NULL padding."""
    out = b"".join(struct.pack(">d", f) for f in features)
    for value, fmt in ids:
        width = struct.calcsize(fmt)
        out += (struct.pack(">i", -1) + b"\0" * width) if value is None else _element(value, fmt)
    return out


def test_rows_split_into_features_and_array_elements():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(50, 3))
    big = [None if i % 7 == 0 else int(i * 1e12) for i in range(50)]
    small = [None if i % 5 == 0 else i for i in range(50)]
    blob = b"".join(_row(f, [(b, ">q"), (s, ">i")]) for f, b, s in zip(features, big, small))
    layout = _Layout([20, 23], [8, 4])
    layout.numeric = 3
    got_features, (got_big, got_small) = layout.split("m", 50, blob)
    np.testing.assert_array_equal(np.frombuffer(got_features, ">f8").reshape(50, 3), features)
    assert got_big == b"".join(_element(v, ">q") for v in big)
    assert got_small == b"".join(_element(v, ">i") for v in small)


def test_variable_width_ids_stay_apart_and_a_short_blob_is_refused():
    layout = _Layout([25], [0])
    layout.numeric = 2
    features, ids = layout.split("m", 2, struct.pack(">4d", 1, 2, 3, 4))
    assert features == struct.pack(">4d", 1, 2, 3, 4) and ids == []
    with pytest.raises(ScoringError, match="received 24 bytes for 2 rows of 16 bytes"):
        layout.split("m", 2, struct.pack(">3d", 1, 2, 3))


def test_the_copy_row_carries_the_count_outputs_and_id_arrays():
    elements = _element(1, ">i") + _element(None, ">i")
    payload = scores_payload(2, (np.array([0.5, 1.5]), None, None, None, None), [elements], [23])
    assert payload.startswith(b"PGCOPY\n\xff\r\n\x00") and payload.endswith(b"\xff\xff")
    body = payload[19:-2]
    assert struct.unpack(">h", body[:2])[0] == 7  # n_rows, five outputs, one id array
    assert struct.unpack(">iq", body[2:14]) == (8, 2)
    assert body.endswith(struct.pack(">6i", 20 + len(elements), 1, 0, 23, 2, 1) + elements)


def test_a_chunk_from_an_aggregate_counts_its_bytes():
    chunk = _Chunk.from_aggregate({"n_rows": 2, "row_bytes": b"x" * 16, "text_1": b"a\0b\0", "id_2": None})
    assert (chunk.n_rows, chunk.nbytes) == (2, 20)
    assert chunk.joined("id_2") == b"" and chunk.joined("text_1") == b"a\0b\0"


@pytest.mark.parametrize("setting", [0, -1, "lots", float("nan")])
def test_the_chunk_setting_must_be_a_positive_size(setting):
    with pytest.raises(ScoringError, match="dbt_learn_score_chunk_mb must be a positive number"):
        _chunk_bytes("m", setting)
    assert _chunk_bytes("m", None) == 64 << 20 and _chunk_bytes("m", 0.5) == 1 << 19
