"""dbt_learn._training_read without a database: a fake plpy serves the training query's rows in fetches. The reader
must give exactly the batch the aggregate path gave (decode_training_rows on one blob), count NULL targets, refuse a
view over the batch limit with the numbers and the option, and validate meta.sample."""

import struct

import numpy as np
import pytest

from dbt_learn import ConfigurationError, TrainingDataError
from dbt_learn import _training_read
from dbt_learn._training_read import Codes, check_sample, read
from dbt_learn._training_rows import decode
from dbt_learn._transport import decode_text_column, decode_training_rows


class _Cursor:
    def __init__(self, rows):
        self.rows, self.closed = rows, False

    def fetch(self, n):
        out, self.rows = self.rows[:n], self.rows[n:]
        return out

    def close(self):
        self.closed = True


class _Plpy:
    """Serves ``rows`` (dicts keyed by column) to cursors and ``count(*)`` to executes."""

    def __init__(self, rows):
        self.rows, self.cursors, self.counted = rows, [], 0

    def prepare(self, query, types):
        return query

    def cursor(self, query, args=None):
        self.cursors.append(_Cursor(list(self.rows)))
        return self.cursors[-1]

    def execute(self, query, args=None):
        assert query.startswith("select count(*)")
        self.counted += 1
        return [{"n": len(self.rows)}]


def _spec(task="regression", n_numeric=2, n_texts=0, **extra):
    features = [{"name": f"x{i}", "kind": "numeric"} for i in range(n_numeric)]
    features += [{"name": f"c{i}", "kind": "categorical"} for i in range(n_texts)]
    return {"features": features, "task": task, "target": {"name": "y"}, **extra}


def _rows(rng, n, n_texts=0):
    X, y = rng.normal(size=(n, 2)), rng.normal(size=n)
    texts = np.array(["a", "b", None, "ü"], dtype=object)[rng.integers(0, 4, (n, n_texts))]
    rows = []
    for i in range(n):
        row = {"__dbt_learn_row": struct.pack(">3d", X[i, 0], X[i, 1], y[i])}
        row.update({f"__dbt_learn_text_{j + 1}": texts[i, j] for j in range(n_texts)})
        rows.append(row)
    return rows, texts


def test_rows_read_in_fetches_decode_as_the_aggregate_path_decoded_them(monkeypatch):
    monkeypatch.setattr(_training_read, "_FETCH_ROWS", 7)
    rows, texts = _rows(np.random.default_rng(0), 100, n_texts=2)
    batch = read(_Plpy(rows), "m", _spec(n_texts=2), "select 1")
    assert batch.n_rows == 100 and batch.keep is None and batch.sample == {}
    new = decode(batch.blocks, "float8", text_columns=batch.texts)
    blob = b"".join(r["__dbt_learn_row"] for r in rows)
    wire = [b"".join(b"\xff\x00" if v is None else v.encode() + b"\x00" for v in texts[:, j]) for j in range(2)]
    old_texts = [decode_text_column(w, 100, model="m", column="c") for w in wire]
    old = decode_training_rows(blob, 100, 2, "float8", model="m", text_columns=old_texts)
    assert new[0].tobytes() == old[0].tobytes() and new[1].tobytes() == old[1].tobytes() and new[2] == old[2]
    assert [list(map(str, a)) for a in new[3]] == [list(map(str, b)) for b in old[3]]


def test_null_targets_are_counted_over_every_fetch(monkeypatch):
    monkeypatch.setattr(_training_read, "_FETCH_ROWS", 3)
    rows, _ = _rows(np.random.default_rng(1), 10)
    rows[1]["__dbt_learn_row"] = rows[8]["__dbt_learn_row"] = None
    with pytest.raises(TrainingDataError, match="target column 'y' is NULL in 2 of 10 rows"):
        read(_Plpy(rows), "m", _spec(), "select 1")


def test_a_view_over_the_batch_limit_is_refused_with_its_row_count_the_limit_and_the_option(monkeypatch):
    monkeypatch.setattr(_training_read, "_FETCH_ROWS", 10)
    rows, _ = _rows(np.random.default_rng(2), 1000)
    plpy = _Plpy(rows)
    limit_mb = 2400 / 2**20  # 2400 bytes: 100 rows of 24 bytes
    with pytest.raises(TrainingDataError) as error:
        read(plpy, "m", _spec(training_batch_mb=limit_mb), "select 1")
    message = str(error.value)
    assert "model 'm': the training view has 1,000 rows" in message and "about 100 rows" in message
    assert "sample: {rows: 100} or {fraction: 0.1}" in message and "dbt_learn_training_batch_mb" in message
    assert plpy.cursors[0].closed and len(plpy.cursors[0].rows) < 900  # stopped reading at the limit
    assert plpy.counted == 1  # then counted the rows for the message


def test_a_sample_counts_first_and_refuses_what_cannot_fit_before_reading():
    rows, _ = _rows(np.random.default_rng(3), 1000)
    plpy = _Plpy(rows)
    with pytest.raises(TrainingDataError, match=r"meta.sample \{\"rows\": 500, \"seed\": 0\} keeps more rows"):
        read(plpy, "m", _spec(sample={"rows": 500}, training_batch_mb=2400 / 2**20), "select 1")
    assert plpy.cursors == []


def test_a_rows_sample_keeps_that_many_rows_and_records_what_it_saw():
    rows, _ = _rows(np.random.default_rng(4), 1000)
    batch = read(_Plpy(rows), "m", _spec(sample={"rows": 50, "seed": 9}), "select 1")
    # The fake cursor ignores the hash filter (SQL's job): every row arrives, 50 of them are kept.
    assert batch.keep == 50 and batch.seed == 9
    assert batch.sample == {"rows_seen": 1000, "rows_read": 1000, "rows": 50, "fraction": None, "seed": 9}
    X, *_ = decode(batch.blocks, "float8", keep=batch.keep, seed=batch.seed)
    assert X.shape == (50, 2)


@pytest.mark.parametrize("fraction", [0.001, 0.25, 0.5, 0.999])
def test_the_sample_threshold_keeps_that_fraction_of_uniform_64_bit_hashes(fraction):
    hashes = np.random.default_rng(5).integers(-(2 ** 63), 2 ** 63 - 1, 400_000, dtype=np.int64, endpoint=True)
    kept = (hashes < _training_read._threshold(fraction)).mean()
    assert abs(kept - fraction) < 0.005
    assert _training_read._threshold(1) is None


@pytest.mark.parametrize("sample", [{"rows": 0}, {"rows": 1.5}, {"fraction": 0}, {"fraction": 1.01}, {"rows": 1,
                                    "fraction": 0.5}, {}, {"rows": 10, "seed": 1.5}, {"rows": 10, "size": 1},
                                    {"fraction": True}, "10%"])
def test_a_malformed_sample_is_refused_with_the_accepted_forms(sample):
    with pytest.raises(ConfigurationError, match=r"meta.sample"):
        check_sample("m", sample)


def test_a_good_sample_is_normalised():
    assert check_sample("m", {"rows": 10}) == {"rows": 10, "fraction": None, "seed": 0}
    assert check_sample("m", {"fraction": 0.5, "seed": -3}) == {"rows": None, "fraction": 0.5, "seed": -3}
    assert check_sample("m", None) is None


def test_text_codes_decode_as_the_wire_form_did():
    values = ["x", None, "", "é", "x", None]
    codes = Codes()
    codes.add(values[:4])
    codes.add(values[4:])
    wire = b"".join(b"\xff\x00" if v is None else v.encode() + b"\x00" for v in values)
    assert list(map(str, codes.decoded())) == list(map(str, decode_text_column(wire, 6, model="m", column="c")))
