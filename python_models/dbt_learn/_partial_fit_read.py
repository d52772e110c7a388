"""meta.partial_fit's reads of the training query (macro training_batch_sql, with ``__dbt_learn_hash`` seeded by
partial_fit.seed), all with the caller's privileges inside the SECURITY INVOKER dbt_learn.train_query:

- ``survey``: one aggregate pass: rows, NULL targets, a classifier's labels, an order-free fingerprint (the sum of
  the row hashes);
- ``sample``: the preprocessing sample (the rows of the lowest hashes, read into RowBlocks and trimmed to an exact
  count by _training_rows.decode, as meta.sample is);
- ``chunks``: the whole query through a cursor, as chunks of decoded rows of about the chunk size each.
"""

from dataclasses import dataclass

import numpy as np

from ._training_read import Codes, _plan, _sorted_labels
from ._training_rows import RowBlocks, decode
from .errors import TrainingDataError

_FETCH_ROWS = 10_000


@dataclass
class Survey:
    n_rows: int
    fingerprint: str
    classes: list = None  # sorted as the target's type sorts
    target_type: str = None  # 'text' for an enum target (_training_read._sorted_labels)


def survey(plpy, model_name, spec, query):
    task = spec["task"]
    classification = task == "classification"
    null_target = ("q.__dbt_learn_class is null" if classification else
                   "q.__dbt_learn_row is null" if task == "regression" else "false")
    labels = (", array_agg(distinct q.__dbt_learn_class) filter (where q.__dbt_learn_class is not null) as labels"
              if classification else "")
    row = plpy.execute(f"select count(*) as n, count(*) filter (where {null_target}) as null_targets, "
                       f"coalesce(sum(q.__dbt_learn_hash::numeric), 0)::text as hash_sum{labels} "
                       f"from ({query}) as q")[0]
    n_rows, null_targets = row["n"], row["null_targets"]
    target_name = (spec.get("target") or {}).get("name")
    if n_rows == 0:
        raise TrainingDataError(
            f"model '{model_name}': the training view returned no rows; check its filters and upstream models.")
    if null_targets:
        raise TrainingDataError(
            f"model '{model_name}': target column '{target_name}' is NULL in {null_targets} of {n_rows} rows; "
            f"filter them out in the training view (where {target_name} is not null).")
    result = Survey(n_rows, f"{n_rows}:{row['hash_sum']}")
    if classification:
        result.classes, _, result.target_type = _sorted_labels(plpy, query, list(row["labels"] or []))
        if len(result.classes) < 2:
            raise TrainingDataError(f"model '{model_name}': target column '{target_name}' has a single value in "
                                    f"the training view; a classifier needs at least two classes.")
    return result


def _columns(spec):
    n_texts = sum(1 for f in spec["features"] if f["kind"] == "categorical")
    return (["__dbt_learn_row"] + (["__dbt_learn_class"] if spec["task"] == "classification" else [])
            + [f"__dbt_learn_text_{i}" for i in range(1, n_texts + 1)] + ["__dbt_learn_hash"]), n_texts


def _cursor(plpy, spec, query, below=None):
    columns, _ = _columns(spec)
    select = f"select {', '.join(columns)} from ({query}) as q"
    if below is None:
        return plpy.cursor(select)
    return plpy.cursor(_plan(plpy, select + " where q.__dbt_learn_hash < $1", ["int8"]), [below])


def sample(plpy, model_name, spec, query, classes, below, rows, seed):
    """(X, y, texts) of the preprocessing sample: at most ``rows`` of the rows whose hash is below ``below``."""
    width = sum(1 for f in spec["features"] if f["kind"] != "categorical")
    task = spec["task"]
    _, n_texts = _columns(spec)
    blocks = RowBlocks(width, task == "regression", model=model_name)
    labels, texts = [], [Codes() for _ in range(n_texts)]
    where = {label: index for index, label in enumerate(classes or [])}
    cursor = _cursor(plpy, spec, query, below)
    while True:
        fetched = cursor.fetch(_FETCH_ROWS)
        if not fetched:
            break
        blocks.add(b"".join(_records(model_name, fetched)))
        if task == "classification":
            labels.append(_class_index(model_name, fetched, where))
        for index, column in enumerate(texts, 1):
            column.add([row[f"__dbt_learn_text_{index}"] for row in fetched])
    if blocks.n_rows == 0:
        return None
    class_index = np.concatenate(labels) if labels else None
    keep = rows if blocks.n_rows > rows else None
    X, y, _, decoded = decode(blocks, {"classification": "int4", "regression": "float8"}.get(task),
                              classes=class_index, text_columns=[c.decoded() for c in texts], keep=keep, seed=seed)
    return X, y, decoded


@dataclass
class Chunk:
    X: np.ndarray  # float64 features, in arrival order
    y: np.ndarray  # float64 target, int64 class index, or None
    texts: list  # object arrays: str, NaN for NULL
    hashes: np.ndarray  # int64
    records: np.ndarray  # uint8: the rows as RowBlocks takes them (to keep the holdout's); None once used


def chunks(plpy, model_name, spec, query, classes, rows_per_chunk):
    """The whole query, ``rows_per_chunk`` rows at a time, in the order Postgres reads it. Each fetch is packed
    (record bytes, hashes, class indexes, text values) before the next: few Python rows are alive at once."""
    width = sum(1 for f in spec["features"] if f["kind"] != "categorical")
    task = spec["task"]
    _, n_texts = _columns(spec)
    fields = [("x", ">f8", (width,))] + ([("y", ">f8")] if task == "regression" else [])
    where = {label: index for index, label in enumerate(classes or [])}
    cursor = _cursor(plpy, spec, query)
    row_size = 8 * (width + (task == "regression"))
    more = True
    while more:
        # The records go straight into one buffer of the chunk's size: no list of fetches joined into a copy.
        buffer = np.empty(rows_per_chunk * row_size, dtype=np.uint8)
        hashes, labels, texts, n_rows = [], [], [[] for _ in range(n_texts)], 0
        while n_rows < rows_per_chunk:
            fetched = cursor.fetch(min(_FETCH_ROWS, rows_per_chunk - n_rows))
            if not fetched:
                more = False
                break
            part = b"".join(_records(model_name, fetched))
            buffer[n_rows * row_size:n_rows * row_size + len(part)] = np.frombuffer(part, dtype=np.uint8)
            del part
            hashes.append(np.fromiter((row["__dbt_learn_hash"] for row in fetched), dtype=np.int64,
                                      count=len(fetched)))
            if task == "classification":
                labels.append(_class_index(model_name, fetched, where))
            for index, column in enumerate(texts, 1):
                column.extend(np.nan if row[f"__dbt_learn_text_{index}"] is None else row[f"__dbt_learn_text_{index}"]
                              for row in fetched)
            n_rows += len(fetched)
            del fetched
        if not n_rows:
            return
        records = buffer[:n_rows * row_size]
        decoded = records.view(fields) if row_size else None
        X = decoded["x"].astype(np.float64) if width else np.empty((n_rows, 0))
        y = (decoded["y"].astype(np.float64) if task == "regression" else
             np.concatenate(labels) if task == "classification" else None)
        box = [Chunk(X, y, [_objects(column) for column in texts], np.concatenate(hashes), records)]
        del buffer, records, decoded, X, y, texts, labels, hashes
        yield box.pop()  # suspended here, the generator holds no reference: the consumer may free the chunk


def _objects(values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _records(model_name, fetched):
    records = [row["__dbt_learn_row"] for row in fetched]
    if None in records:  # the survey found no NULL target: the view changed since
        raise TrainingDataError(f"model '{model_name}': the training view changed while it was read (a NULL target "
                                f"appeared); rerun the model.")
    return records


def _class_index(model_name, fetched, where):
    try:
        return np.fromiter((where[row["__dbt_learn_class"]] for row in fetched), dtype=np.int64, count=len(fetched))
    except KeyError:
        raise TrainingDataError(f"model '{model_name}': the training view changed while it was read (a new class "
                                f"appeared); rerun the model.") from None
