"""The training batch decoded into one preallocated matrix (dbt_learn._training_rows) gives exactly what the previous
decoder gave (a copy of it is kept below as the reference): the same rows in the same canonical order, the same
values bit for bit (NaN included) and the same sha256 fingerprint, for regressors, classifiers (one blob per class,
or a cursor's rows with a class index beside them) and clusterers, with text columns, in blocks of any size."""

import hashlib

import numpy as np
import pytest

from dbt_learn import TrainingDataError
from dbt_learn import _training_rows
from dbt_learn._training_rows import RowBlocks, decode
from dbt_learn._transport import class_batch, decode_text_column, decode_training_rows, text_keys

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _reference_order(blob, n_rows, row_size, extra_keys=()):
    """canonical_order of dbt_learn 0.5 (_transport.py), verbatim."""
    if n_rows == 0:
        return np.arange(0)
    wide = np.ndarray(buffer=blob, dtype="<u8", shape=(n_rows, row_size // 8), strides=(row_size, 8))
    columns = [wide[:, i] for i in range(wide.shape[1])]
    if row_size % 8:
        columns.append(np.ndarray(buffer=blob, dtype="<u4", shape=(n_rows,), strides=(row_size,),
                                  offset=row_size - 4).astype(np.uint64))
    columns += [np.asarray(key, dtype=np.uint64) for key in extra_keys]
    digest = np.zeros(n_rows, dtype=np.uint64)
    shifted = np.empty(n_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for column in columns:
            np.bitwise_xor(digest, column, out=digest)
            np.multiply(digest, _MIX, out=digest)
            np.right_shift(digest, np.uint64(29), out=shifted)
            np.bitwise_xor(digest, shifted, out=digest)
    return np.argsort(digest, kind="stable")


def _reference_decode(blob, n_rows, n_features, target_kind, text_columns=()):
    """decode_training_rows of dbt_learn 0.5, verbatim but for the error check: records taken in order, then
    the float64 matrix."""
    blob = memoryview(blob).cast("B")
    fields = [("x", ">f8", (n_features,))]
    if target_kind is not None:
        fields.append(("y", {"float8": ">f8", "int4": ">i4"}[target_kind]))
    dtype = np.dtype(fields)
    keys = text_keys(text_columns)
    order = _reference_order(blob, n_rows, dtype.itemsize, keys)
    records = np.frombuffer(blob, dtype=f"V{dtype.itemsize}").take(order)
    digest = hashlib.sha256(records.data)
    for key in keys:
        digest.update(key[order].tobytes())
    texts = [np.asarray(column, dtype=object)[order] for column in text_columns]
    rows = records.view(dtype)
    X = rows["x"].reshape(n_rows, n_features).astype(np.float64)
    y = None if target_kind is None else rows["y"].astype(np.float64 if target_kind == "float8" else np.int64)
    return X, y, digest.hexdigest(), texts


def _random_rows(rng, n_rows, n_features, duplicates=True):
    X = rng.normal(size=(n_rows, n_features))
    X[rng.random(X.shape) < 0.05] = np.nan  # SQL NULLs
    X[rng.random(X.shape) < 0.05] = -0.0
    if duplicates and n_rows > 10:
        X[-5:] = X[:5]  # identical rows tie in the order
    return X


def _texts(rng, n_rows):
    values = np.array(["a", "b", "", "é", None, "long value " * 3], dtype=object)
    return values[rng.integers(0, len(values), n_rows)]


def _wire_text(values):
    """A text column as SQL sends it (macros text_bytes_sql), decoded by the runtime."""
    blob = b"".join(b"\xff\x00" if v is None else v.encode() + b"\x00" for v in values)
    return decode_text_column(blob, len(values), model="m", column="c")


def _same(new, old):
    (X1, y1, print1, texts1), (X2, y2, print2, texts2) = new, old
    assert X1.dtype == X2.dtype and X1.shape == X2.shape and X1.flags.c_contiguous
    assert X1.tobytes() == X2.tobytes()  # bit for bit: NaN and -0.0 too
    assert (y1 is None and y2 is None) or (y1.dtype == y2.dtype and y1.tobytes() == y2.tobytes())
    assert print1 == print2
    assert len(texts1) == len(texts2)
    for a, b in zip(texts1, texts2):
        assert [str(v) for v in a] == [str(v) for v in b]


@pytest.mark.parametrize("target_kind", ["float8", "int4", None])
@pytest.mark.parametrize("n_rows,n_features,n_texts", [(0, 3, 0), (1, 1, 0), (2000, 4, 0), (3000, 3, 2), (500, 0, 1)])
def test_one_blob_decodes_as_the_previous_decoder_did(target_kind, n_rows, n_features, n_texts):
    rng = np.random.default_rng(n_rows + n_features)
    X = _random_rows(rng, n_rows, n_features)
    fields = [("x", ">f8", (n_features,))]
    if target_kind:
        fields.append(("y", ">f8" if target_kind == "float8" else ">i4"))
    records = np.zeros(n_rows, dtype=fields)
    records["x"] = X
    if target_kind == "float8":
        records["y"] = rng.normal(size=n_rows)
    elif target_kind == "int4":
        records["y"] = rng.integers(0, 3, n_rows)
    if n_features == 0 and target_kind is None:
        pytest.skip("a batch of neither features nor target has no records to compare")
    texts = [_wire_text(_texts(rng, n_rows)) for _ in range(n_texts)]
    blob = records.tobytes()
    _same(decode_training_rows(blob, n_rows, n_features, target_kind, model="m", text_columns=texts),
          _reference_decode(blob, n_rows, n_features, target_kind, texts))


def test_classifier_blobs_per_class_decode_as_the_previous_class_batch_did(monkeypatch):
    monkeypatch.setattr(_training_rows, "_BLOCK_BYTES", 1000)  # many blocks, rows straddling fetches
    monkeypatch.setattr(_training_rows, "_STEP", 7)
    rng = np.random.default_rng(1)
    counts, indexes, width = [700, 1, 299], [2, 0, 1], 3
    blobs = [_random_rows(rng, count, width).astype(">f8").tobytes() for count in counts]
    texts = [_wire_text(_texts(rng, sum(counts)))]
    records = class_batch(blobs, counts, indexes, width)
    reference = _reference_decode(records.tobytes(), sum(counts), width, "int4", texts)
    blocks = RowBlocks(width, False, model="m")
    for blob, count in zip(blobs, counts):
        blocks.add(blob, count)
    classes = np.repeat(indexes, counts)
    _same(decode(blocks, "int4", classes=classes, text_columns=texts), reference)
    assert blocks.blocks == [None] * len(blocks.blocks)  # every block was freed as it was copied


def test_rows_added_in_fetches_of_any_size_decode_alike(monkeypatch):
    monkeypatch.setattr(_training_rows, "_BLOCK_BYTES", 4096)
    rng = np.random.default_rng(2)
    n_rows, width = 5000, 5
    records = np.zeros(n_rows, dtype=[("x", ">f8", (width,)), ("y", ">f8")])
    records["x"], records["y"] = _random_rows(rng, n_rows, width), rng.normal(size=n_rows)
    reference = _reference_decode(records.tobytes(), n_rows, width, "float8")
    blocks = RowBlocks(width, True, model="m")
    cuts = np.sort(rng.choice(np.arange(1, n_rows), 40, replace=False))
    for part in np.split(records, cuts):
        blocks.add(part.tobytes())
    assert blocks.n_rows == n_rows and len(blocks.blocks) > 10
    _same(decode(blocks, "float8"), reference)


def test_a_partial_row_is_refused():
    blocks = RowBlocks(2, True, model="m")
    with pytest.raises(TrainingDataError, match="model 'm'.*reinstall"):
        blocks.add(b"\x00" * 25)


def test_keep_takes_the_same_rows_whatever_the_arrival_order_and_another_seed_takes_others():
    rng = np.random.default_rng(3)
    records = np.zeros(1000, dtype=[("x", ">f8", (2,)), ("y", ">f8")])
    records["x"], records["y"] = rng.normal(size=(1000, 2)), rng.normal(size=1000)

    def sample(rows, seed):
        blocks = RowBlocks(2, True, model="m")
        blocks.add(rows.tobytes())
        return decode(blocks, "float8", keep=100, seed=seed)

    first, shuffled, other = sample(records, 7), sample(records[rng.permutation(1000)], 7), sample(records, 8)
    assert first[0].shape == (100, 2) and first[2] == shuffled[2] and first[0].tobytes() == shuffled[0].tobytes()
    assert first[2] != other[2]
    # The sample is canonically ordered too: decoding just those rows gives the same batch.
    kept = {row.tobytes() for row in np.column_stack([first[0], first[1]])}
    subset = records[[np.column_stack([r["x"][None], [[r["y"]]]]).astype(np.float64).tobytes() in kept
                      for r in records]]
    assert decode_training_rows(subset.tobytes(), 100, 2, "float8", model="m")[2] == first[2]
