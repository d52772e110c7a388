"""Reading an SQL ml_train model's training rows: ``dbt_learn.train_query`` (SECURITY INVOKER) runs the caller's
training query through a cursor with the caller's privileges, keeps the rows in ``RowBlocks`` (numeric features as
records, class labels and text values as codes), applies ``meta.sample`` and the batch size limit, and hands the
batch to the SECURITY DEFINER ``dbt_learn.train_staged``, which fits and registers (``_training_entry.train_staged``).

The query (macro ``training_batch_sql``) returns one row per training row: ``__dbt_learn_row`` (the numeric and
datetime features, the ordering column of a time split, a regressor's target: big-endian float8; NULL when a
regressor's target is NULL), ``__dbt_learn_class`` (a classifier's target as text; ``__dbt_learn_class_value``, the
target itself, only tells its type), ``__dbt_learn_text_<i>`` (text features) and, with ``meta.sample``,
``__dbt_learn_hash`` (a 64-bit hash of the row's values and the sample seed).
"""

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ._training_rows import RowBlocks
from .errors import ConfigurationError, DbtLearnError, TrainingDataError

_FETCH_ROWS = 10_000
_DEFAULT_BATCH_MB = 1024
_staged = {}
_plans = {}


def _plan(plpy, sql, types=()):
    if (sql, tuple(types)) not in _plans:
        _plans[(sql, tuple(types))] = plpy.prepare(sql, list(types))
    return _plans[(sql, tuple(types))]


class Codes:
    """Values of a text column (or class labels) as int32 codes into the distinct values met so far."""

    def __init__(self):
        self.lookup, self.parts = {}, []

    def add(self, values):
        lookup = self.lookup
        self.parts.append(np.fromiter((lookup.setdefault(v, len(lookup)) for v in values), dtype=np.int32,
                                      count=len(values)))

    def codes(self):
        return np.concatenate(self.parts) if self.parts else np.zeros(0, dtype=np.int32)

    def decoded(self):
        """As decode_text_column gives a column: an object array of str, NaN for NULL."""
        uniques = np.array([np.nan if v is None else v for v in self.lookup] + [np.nan], dtype=object)[:-1]
        return uniques[self.codes()]


@dataclass
class Batch:
    """What train_staged receives: the rows as read, and how they were chosen."""
    blocks: RowBlocks
    n_rows: int
    texts: list
    classes: list = None  # the labels, sorted as Postgres sorts the target's type
    class_index: object = None  # per row, into classes
    keep: int = None  # meta.sample rows: keep that many rows (canonical_positions)
    seed: int = 0
    sample: dict = field(default_factory=dict)  # rows_seen, rows_read, and the sample's settings
    target_type: str = None  # the target's type as recorded, when not the training view's: 'text' for an enum


def train_query(plpy, model_schema, model_name, spec_json, query):
    """The SECURITY INVOKER entry point: read, stage, train in the definer function; returns its JSON."""
    spec = json.loads(spec_json)
    try:
        if spec.get("partial_fit"):  # chunks fitted here, with the caller's privileges (_partial_fit)
            from ._partial_fit import train

            batch = train(plpy, model_schema, model_name, spec, query)
        else:
            batch = read(plpy, model_name, spec, query)
    except DbtLearnError as exc:  # every user error of the read (and of partial_fit's lock), as its message
        return json.dumps({"error": str(exc)})
    _staged.clear()  # one training call at a time per session: anything left was abandoned
    _staged[(model_schema, model_name)] = batch
    try:
        return plpy.execute(_plan(plpy, "select dbt_learn.train_staged($1, $2, $3::jsonb)::text as result",
                                  ["text", "text", "text"]), [model_schema, model_name, spec_json])[0]["result"]
    finally:
        _staged.clear()


def take_staged(model_schema, model_name):
    return _staged.pop((model_schema, model_name), None)


def batch_limit(model_name, spec):
    megabytes = spec.get("training_batch_mb", _DEFAULT_BATCH_MB)
    if isinstance(megabytes, bool) or not isinstance(megabytes, (int, float)) or not megabytes > 0:
        raise ConfigurationError(f"model '{model_name}': dbt_learn_training_batch_mb must be a positive number of "
                                 f"megabytes (got {megabytes!r}); the default is {_DEFAULT_BATCH_MB}.")
    return megabytes, int(megabytes * (1 << 20))


def check_sample(model_name, sample):
    """meta.sample: {rows: N} or {fraction: f}, and optionally seed (an integer, default 0)."""
    if sample is None:
        return None
    usage = ("meta.sample takes {rows: <positive integer>} or {fraction: <number in (0, 1]>}, and optionally "
             "seed: <integer>")
    if not isinstance(sample, dict) or set(sample) - {"rows", "fraction", "seed"} or \
            ("rows" in sample) == ("fraction" in sample):
        raise ConfigurationError(f"model '{model_name}': {usage}; got {sample!r}.")
    rows, fraction, seed = sample.get("rows"), sample.get("fraction"), sample.get("seed", 0)
    if "rows" in sample and (isinstance(rows, bool) or not isinstance(rows, int) or rows < 1):
        raise ConfigurationError(f"model '{model_name}': meta.sample.rows must be a positive integer; {usage}.")
    if "fraction" in sample and (isinstance(fraction, bool) or not isinstance(fraction, (int, float))
                                 or not 0 < fraction <= 1):
        raise ConfigurationError(f"model '{model_name}': meta.sample.fraction must be in (0, 1]; {usage}.")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigurationError(f"model '{model_name}': meta.sample.seed must be an integer; {usage}.")
    return {"rows": rows, "fraction": fraction, "seed": seed}


def _threshold(fraction):
    """Rows whose signed 64-bit hash is below this are in a sample of ``fraction``; None keeps every row."""
    if fraction >= 1:
        return None
    return int(-(2 ** 63) + math.floor(fraction * 2 ** 64))


def _count(plpy, query):
    return plpy.execute(f"select count(*) as n from ({query}) as q")[0]["n"]


def read(plpy, model_name, spec, query):
    """Read the training query's rows into a Batch (see the module docstring)."""
    features = spec["features"]
    task = spec["task"]
    width = sum(1 for f in features if f["kind"] != "categorical") + (spec.get("split") == "time")
    n_texts = sum(1 for f in features if f["kind"] == "categorical")
    megabytes, limit = batch_limit(model_name, spec)
    sample = check_sample(model_name, spec.get("sample"))
    blocks = RowBlocks(width, task == "regression", model=model_name)
    columns = ["__dbt_learn_row"] + (["__dbt_learn_class"] if task == "classification" else []) + \
        [f"__dbt_learn_text_{i}" for i in range(1, n_texts + 1)]
    select = f"select {', '.join(columns)} from ({query}) as q"
    seen = threshold = None
    if sample:
        seen = _count(plpy, query)
        fraction = sample["fraction"]
        if fraction is None:
            wanted = sample["rows"]
            fraction = 1.0 if seen <= wanted else min(1.0, (wanted + 6 * math.sqrt(wanted) + 16) / seen)
        threshold = _threshold(fraction)
        expected = min(seen, sample["rows"] or seen * fraction)
        if expected * blocks.row_size > limit:
            raise TrainingDataError(_too_large(model_name, seen, blocks.row_size, megabytes, limit, sample))
    if threshold is not None:
        cursor = plpy.cursor(_plan(plpy, select + " where q.__dbt_learn_hash < $1", ["int8"]), [threshold])
    else:
        cursor = plpy.cursor(select)
    labels = Codes()
    texts = [Codes() for _ in range(n_texts)]
    n_rows = null_targets = text_bytes = 0
    while True:
        rows = cursor.fetch(_FETCH_ROWS)
        if not rows:
            break
        records = [row["__dbt_learn_row"] for row in rows]
        if task == "regression" and None in records:
            null_targets += records.count(None)
            records = [r if r is not None else b"\0" * blocks.row_size for r in records]  # refused below
        blocks.add(b"".join(records), None if blocks.row_size else len(records))
        if task == "classification":
            values = [row["__dbt_learn_class"] for row in rows]
            null_targets += values.count(None)
            labels.add(values)
        for index, column in enumerate(texts, 1):
            values = [row[f"__dbt_learn_text_{index}"] for row in rows]
            text_bytes += sum(len(v) for v in values if v is not None)
            column.add(values)
        n_rows += len(rows)
        if blocks.nbytes + text_bytes > limit:
            cursor.close()
            raise TrainingDataError(_too_large(model_name, seen if seen is not None else _count(plpy, query),
                                               (blocks.nbytes + text_bytes) / n_rows, megabytes, limit, sample))
    target_name = (spec.get("target") or {}).get("name")
    if n_rows == 0:
        raise TrainingDataError(
            f"model '{model_name}': the training view returned no rows; check its filters and upstream models."
            if not sample else f"model '{model_name}': meta.sample kept none of the {seen} rows of the training "
                               f"view; sample more rows.")
    if null_targets:
        raise TrainingDataError(
            f"model '{model_name}': target column '{target_name}' is NULL in {null_targets} of {n_rows} rows; "
            f"filter them out in the training view (where {target_name} is not null).")
    batch = Batch(blocks, n_rows, [column.decoded() for column in texts])
    if task == "classification":
        batch.classes, position, batch.target_type = _sorted_labels(plpy, query, list(labels.lookup))
        batch.class_index = position[labels.codes()]
    if sample:
        batch.seed = sample["seed"]
        if sample["rows"] is not None and n_rows > sample["rows"]:
            batch.keep = sample["rows"]
        batch.sample = {"rows_seen": seen, "rows_read": n_rows, "rows": sample["rows"],
                        "fraction": sample["fraction"], "seed": sample["seed"]}
    return batch


def _sorted_labels(plpy, query, labels):
    """The labels in the order Postgres sorts the target's type (``order by`` the target column, but in the type's
    default collation), each label's position in that order, and the target type to record: 'text' for an enum (its
    labels are recorded, and scored, as text, not as a type named by schema that scoring elsewhere could not cast
    to), else None (the training view's). The type comes from the query's ``__dbt_learn_class_value`` column, which
    the cursor never fetches."""
    oid = plpy.execute(f"select q.__dbt_learn_class_value from ({query}) as q limit 0").coltypes()[0]
    target = plpy.execute(_plan(plpy, "select format_type($1, null) as t, typtype = 'e' as enum from pg_type "
                                      "where oid = $1", ["oid"]), [oid])[0]
    plan = _plan(plpy, "select array_agg(v::text order by v) as labels from unnest($1) as v", [f"{target['t']}[]"])
    ordered = plpy.execute(plan, [labels])[0]["labels"] or []
    where = {label: index for index, label in enumerate(ordered)}
    return ordered, np.array([where[label] for label in labels], dtype=np.int64), "text" if target["enum"] else None


def _too_large(model_name, rows, row_bytes, megabytes, limit, sample):
    fits = max(1, int(limit // max(row_bytes, 1)))
    fraction = max(0.0001, math.floor(fits / max(rows, 1) * 10000) / 10000)
    if sample:
        return (f"model '{model_name}': meta.sample {json.dumps({k: v for k, v in sample.items() if v is not None})} "
                f"keeps more rows than one training batch holds: the training view has {rows:,} rows and "
                f"dbt_learn_training_batch_mb = {megabytes} MB holds about {fits:,} rows of {row_bytes:.0f} bytes; "
                f"lower meta.sample to {{rows: {fits}}} (or {{fraction: {fraction}}}), or raise the var "
                f"dbt_learn_training_batch_mb (training needs 3 to 5 times the batch in memory).")
    return (f"model '{model_name}': the training view has {rows:,} rows, more than one training batch holds: "
            f"dbt_learn_training_batch_mb = {megabytes} MB holds about {fits:,} rows of this model's "
            f"{row_bytes:.0f} bytes a row. Set meta.sample to train on a deterministic sample, e.g. "
            f"sample: {{rows: {fits}}} or {{fraction: {fraction}}}; or, with an estimator that has partial_fit "
            f"(e.g. sgd_regressor, sgd_classifier), set meta.partial_fit: true to train on every row in chunks; "
            f"or raise the var dbt_learn_training_batch_mb (training needs 3 to 5 times the batch in memory).")
