"""The training batch in memory: rows kept as they arrive, then decoded once into one preallocated matrix.

A row is a fixed-size record that SQL built: the numeric and datetime features (and the ordering column of a time
split) as big-endian float8, then a regressor's target as float8. A classifier's class index and the text features
travel beside the records. ``RowBlocks`` packs the records into blocks of about 64 MB as they come (a cursor's
fetches, or the blobs of one aggregate), folding each row's bytes into a 64-bit hash on the way. ``decode`` then puts
the rows in the canonical order (sorted by that hash, extended by the class index and the text values), so the fit,
the split and the sha256 fingerprint do not depend on the order Postgres read them in; it writes every row straight
into its place in one float64 matrix, freeing each block once copied: the batch never exists twice in full.
"""

import hashlib

import numpy as np

from .errors import TrainingDataError

_BLOCK_BYTES = 64 << 20  # above glibc's largest mmap threshold (32 MB): a freed block goes back to the system
_STEP = 1 << 16  # rows per step of a scatter or a hash pass: temporaries of a few MB

_MIX = np.uint64(0x9E3779B97F4A7C15)


def mix(digest, column, shifted=None):
    """Fold one uint64 column into the per-row digests, in place (no temporaries of n_rows per step)."""
    shifted = np.empty_like(digest) if shifted is None else shifted
    with np.errstate(over="ignore"):
        np.bitwise_xor(digest, column, out=digest)
        np.multiply(digest, _MIX, out=digest)
        np.right_shift(digest, np.uint64(29), out=shifted)
        np.bitwise_xor(digest, shifted, out=digest)


def class_word(indexes):
    """A class index as the hash saw it when it was the record's trailing big-endian int4: that int4's bytes read
    as a little-endian uint32."""
    return np.asarray(indexes, dtype=">i4").view("<u4").astype(np.uint64)


class RowBlocks:
    """Records of ``width`` float8 features plus a float8 target when ``float_target``, in arrival order."""

    def __init__(self, width, float_target, *, model):
        self.width, self.float_target, self.model = width, bool(float_target), model
        self.row_size = 8 * (width + self.float_target)
        self.per_block = max(1, _BLOCK_BYTES // max(self.row_size, 1))
        self.blocks, self.digests, self.counts = [], [], []
        self.n_rows = 0

    @property
    def nbytes(self):
        return self.n_rows * self.row_size

    def add(self, data, n_rows=None):
        """Append whole records from a bytes-like object, copied into the blocks (a cursor's fetch: small)."""
        records = self._records(data, n_rows)
        if records is None:
            return
        while len(records):
            if not self.blocks or self.counts[-1] == len(self.blocks[-1]):  # adopted blocks are always full
                self.blocks.append(np.empty(self.per_block, dtype=f"V{self.row_size}"))
                self.digests.append(np.empty(self.per_block, dtype=np.uint64))
                self.counts.append(0)
            start = self.counts[-1]
            take = min(len(records), self.per_block - start)
            block = self.blocks[-1]
            block[start:start + take] = records[:take]
            _hash_records(block[start:start + take], self.row_size, self.digests[-1][start:start + take])
            self.counts[-1] += take
            self.n_rows += take
            records = records[take:]

    def _records(self, data, n_rows):
        data = memoryview(b"" if data is None else data).cast("B")
        if self.row_size == 0:  # no numeric feature and no float target: only the count matters
            self._count_only(n_rows or 0)
            return None
        if data.nbytes % self.row_size or (n_rows is not None and data.nbytes != n_rows * self.row_size):
            expected = f"{n_rows} rows" if n_rows is not None else "whole rows"
            raise TrainingDataError(
                f"model '{self.model}': received {data.nbytes} bytes of training rows, not {expected} of "
                f"{self.row_size} bytes; the dbt_learn macros and the installed runtime disagree - reinstall both.")
        return np.frombuffer(data, dtype=f"V{self.row_size}")

    def _count_only(self, n_rows):
        self.n_rows += n_rows
        self.digests.append(np.zeros(n_rows, dtype=np.uint64))
        self.blocks.append(None)
        self.counts.append(n_rows)

    def digest(self):
        """The records' hashes in arrival order (one uint64 a row)."""
        parts = [d[:count] for d, count in zip(self.digests, self.counts)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint64)


def _hash_records(records, row_size, out):
    words = np.ndarray(buffer=records, dtype="<u8", shape=(len(records), row_size // 8), strides=(row_size, 8))
    out[:] = 0
    shifted = np.empty_like(out)
    for i in range(words.shape[1]):
        mix(out, words[:, i], shifted)


def canonical_positions(digest, keep=None, seed=0):
    """The arrival positions of the rows in canonical order: sorted by hash; identical rows tie (their order cannot
    matter), and two different rows sharing a hash (odds about n^2 / 2^64) keep their arrival order. With ``keep``,
    only the ``keep`` rows whose hash, re-mixed with ``seed``, is smallest: a deterministic sample of the set."""
    if keep is not None and keep < len(digest):
        drawn = digest.copy()
        mix(drawn, np.uint64(seed % 2**64))
        # mix is a bijection: equal draws are equal hashes, i.e. identical rows, so which of them argpartition
        # keeps at the boundary cannot change the batch.
        chosen = np.sort(np.argpartition(drawn, keep - 1)[:keep]) if keep else np.arange(0)
        del drawn
        return chosen[np.argsort(digest[chosen], kind="stable")]
    return np.argsort(digest, kind="stable")


def decode(blocks, target_kind, *, classes=None, text_columns=(), keep=None, seed=0):
    """``(X, y, fingerprint, texts)`` of the rows in ``blocks`` in canonical order (see module docstring).

    ``classes``: a classifier's class index per row in arrival order; ``text_columns``: object arrays per text
    feature in arrival order; ``keep``: keep only that many rows (canonical_positions). The blocks are consumed.
    """
    from ._transport import text_keys

    digest = blocks.digest()
    shifted = np.empty_like(digest)
    if target_kind == "int4":
        mix(digest, class_word(classes), shifted)
    keys = text_keys(text_columns)
    for key in keys:
        mix(digest, np.asarray(key, dtype=np.uint64), shifted)
    del shifted
    order = canonical_positions(digest, keep, seed)
    del digest
    n_out, width = len(order), blocks.width
    X = np.empty((n_out, width), dtype=np.float64)
    y = None if target_kind is None else np.empty(n_out, dtype=np.float64 if target_kind == "float8" else np.int64)
    _scatter(blocks, order, X, y, classes)
    fingerprint = _fingerprint(X, y, target_kind, [key[order] for key in keys])
    texts = [np.asarray(column, dtype=object)[order] for column in text_columns]
    return X, y, fingerprint, texts


def _scatter(blocks, order, X, y, classes):
    """Write each arriving row to its place in X (and y), block by block, freeing every block once it is copied."""
    rank = np.full(blocks.n_rows, -1, dtype=np.intp)
    rank[order] = np.arange(len(order))
    fields = [("x", ">f8", (blocks.width,))] + ([("y", ">f8")] if blocks.float_target else [])
    start = 0
    for index, count in enumerate(blocks.counts):
        records = None if blocks.blocks[index] is None else blocks.blocks[index][:count].view(fields)
        for step in range(0, count, _STEP):
            positions = rank[start + step:start + min(step + _STEP, count)]
            kept = positions >= 0
            part = slice(step, step + len(positions))
            if not kept.all():
                positions, part = positions[kept], np.flatnonzero(kept) + step
            if records is not None and blocks.width:
                X[positions] = records["x"][part]
            if y is not None:
                y[positions] = records["y"][part] if blocks.float_target else classes[start:start + count][part]
        blocks.blocks[index] = blocks.digests[index] = None
        start += count


def _fingerprint(X, y, target_kind, ordered_keys):
    """sha256 of the rows in canonical order as the big-endian records SQL sent (features, then the target as
    float8 or the class index as int4), then of each text column's value hashes: chunk by chunk."""
    fields = [("x", ">f8", (X.shape[1],))]
    if target_kind is not None:
        fields.append(("y", {"float8": ">f8", "int4": ">i4"}[target_kind]))
    digest = hashlib.sha256()
    for start in range(0, len(X), _STEP):
        chunk = np.empty(min(_STEP, len(X) - start), dtype=fields)
        chunk["x"] = X[start:start + len(chunk)]
        if y is not None:
            chunk["y"] = y[start:start + len(chunk)]
        digest.update(chunk.view(np.uint8))
    for key in ordered_keys:
        digest.update(np.ascontiguousarray(key).tobytes())
    return digest.hexdigest()
