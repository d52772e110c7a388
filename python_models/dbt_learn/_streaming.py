"""Streaming scoring for ``ml_score``: a relation of any size, scored chunk by chunk, so the backend holds one chunk
(``meta``-free setting ``dbt_learn_score_chunk_mb``) instead of the whole table, and no value nears Postgres' 1 GB cap.

``score_relation`` runs with the caller's privileges (the SQL function is SECURITY INVOKER): it reads the caller's
query through a cursor, one fetch of rows at a time. Each row arrives as a few bytea values that SQL built (the
numeric features as float8, one zero-terminated value per text feature, each id column as one element of Postgres'
binary array format), so Python only joins bytes. A chunk is predicted with the estimator that the SECURITY DEFINER
``dbt_learn.load_scoring_model`` checked and cached, and its predictions and ids go back as one row of arrays through
``dbt_learn.append_scores`` (a binary COPY into a temporary table only this runtime creates); SQL unnests the rows.
"""

import json

import numpy as np

from . import registry
from ._entry_support import user_errors
from ._interrupts import InterruptedWork, interruptible, raise_pending
from ._score_tables import scores_payload
from ._scoring_entry import score_chunk
from .errors import ScoringError

_FETCH_ROWS = 10_000
_DEFAULT_CHUNK_MB = 64


def score_relation(plpy, model_schema, model_name, version, query, chunk_query, relation, id_types, id_widths,
                   options_json):
    """Score every row ``query`` returns in chunks of about ``chunk_mb`` of row bytes; returns the temporary table
    that holds one row of arrays per chunk.

    ``query``'s columns: ``row_bytes`` (the numeric features as float8, then every id whose ``id_widths`` entry is
    not 0 as a binary array element of that many data bytes, NULL padded), ``text_1..`` (the text features) and
    ``id_<i>`` for the other ids (binary array elements). When ``relation`` names a table, ``chunk_query`` gives
    the same columns aggregated (plus ``n_rows``) over a block range ``ctid >= $1 and ctid < $2``: a TID range scan
    per chunk, as fast as one aggregate over the table. Otherwise (a view, a subquery) a cursor streams the rows.
    The SQL function is STABLE, so every chunk reads the same snapshot.
    """
    with user_errors(plpy):
        options = json.loads(options_json or "{}")
        limit = _chunk_bytes(model_name, options.get("chunk_mb"))
        layout = _Layout(list(id_types or []), list(id_widths or []))
        table = plpy.execute(registry._plan(plpy, "select dbt_learn.scoring_table($1) as t", ["oid[]"]),
                             [layout.types])[0]["t"]
        append = registry._plan(plpy, "select dbt_learn.append_scores($1, $2)", ["text", "bytea"])
        blocks = _heap_blocks(plpy, relation) if chunk_query else None
        chunks = _block_chunks(plpy, chunk_query, blocks, limit) if blocks is not None \
            else _cursor_chunks(plpy, query, limit)
        pipeline = _Pipeline(options)
        model = None
        done = rows_done = 0
        try:
            for chunk in chunks:
                if model is None:  # not before the first row: an empty increment does not load the model
                    with interruptible():  # a large artifact's first load runs for seconds
                        model = _load(plpy, model_schema, model_name, version)
                    layout.numeric = len(model[1]["features"]) - _text_count(model[1])
                estimator, meta = model
                features, ids = layout.split(model_name, chunk.n_rows, chunk.joined("row_bytes"))
                ids = [ids.pop(0) if width else chunk.joined(f"id_{i}") for i, width in enumerate(layout.widths, 1)]
                texts = [chunk.joined(f"text_{i}") for i in range(1, _text_count(meta) + 1)]
                n_rows = chunk.n_rows
                del chunk
                for payload in pipeline.submit(_chunk_payload, model_name, estimator, meta, n_rows, features, texts,
                                               ids, layout.types):
                    plpy.execute(append, [table, payload])
                done += 1
                rows_done += n_rows
            for payload in pipeline.drain():
                plpy.execute(append, [table, payload])
        except InterruptedWork:  # the worker thread's chunk stopped for a cancel: Postgres raises it here
            pipeline.close()
            raise_pending()
        finally:
            pipeline.close()
        if done > 1:
            plpy.notice(f"dbt_learn: model '{model_name}' v{version} scored {rows_done} rows in {done} chunks")
        return table


def _chunk_payload(model_name, estimator, meta, n_rows, features, texts, ids, id_types, options):
    outputs = score_chunk(model_name, estimator, meta, n_rows, features, texts, options)
    return scores_payload(n_rows, outputs, ids, id_types)


class _Pipeline:
    """With two or more threads for this model, chunk k is predicted in a worker thread while this (the backend's)
    thread reads chunk k+1: the reads and writes go through SPI, which only the backend's own thread may call, and
    numpy and scikit-learn release the GIL for their heavy loops. At most two chunks are in flight. With one thread,
    each chunk is predicted in turn."""

    def __init__(self, options):
        from .estimators import thread_budget

        budget = thread_budget(options)
        self._pool = self._pending = None
        self._options = options
        if budget >= 2:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dbt_learn_score")
            # The backend's thread is busy reading: the worker's BLAS/OpenMP get the rest of the budget.
            self._options = {**options, "threads_per_model": budget - 1}

    def submit(self, function, *args):
        """Start (or, without a worker, do) one chunk's work; yields the payloads that are ready, in order."""
        if self._pool is None:
            yield function(*args, self._options)
            return
        future = self._pool.submit(function, *args, self._options)
        if self._pending is not None:
            yield self._pending.result()
        self._pending = future

    def drain(self):
        if self._pending is not None:
            pending, self._pending = self._pending, None
            yield pending.result()

    def close(self):
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _cursor_chunks(plpy, query, limit):
    """Chunks of the rows of ``query``, fetched through a cursor (with the caller's privileges: the function is
    SECURITY INVOKER)."""
    cursor = plpy.cursor(query)
    chunk = None
    while True:
        rows = cursor.fetch(_FETCH_ROWS)
        if rows:
            chunk = chunk or _Chunk(rows[0].keys())
            chunk.add(rows)
        if chunk is not None and (not rows or chunk.nbytes >= limit):
            yield chunk
            chunk = None
        if not rows:
            break
    cursor.close()


def _heap_blocks(plpy, relation):
    """The number of blocks of ``relation`` when it is a plain table or materialized view, else None."""
    rows = plpy.execute(registry._plan(
        plpy, "select c.relkind in ('r', 'm') and a.amname = 'heap' as heap, "
        "pg_relation_size(c.oid) / current_setting('block_size')::int8 as blocks "
        "from pg_class c join pg_am a on a.oid = c.relam where c.oid = to_regclass($1)", ["text"]), [relation])
    return rows[0]["blocks"] if rows and rows[0]["heap"] else None


_FIRST_BLOCKS = 256  # 2 MB of table: the first chunk measures how many row bytes a block gives
_LAST_BLOCK = 4294967295


def _block_chunks(plpy, chunk_query, blocks, limit):
    """Chunks of a table read by block ranges; each range is sized from the bytes per block seen so far to give
    about ``limit`` bytes. The last range is open, so rows added past the size read at the start are not lost."""
    plan = plpy.prepare(chunk_query, ["tid", "tid"])  # the caller's query: not kept in the runtime's plan cache
    start, step, seen_blocks, seen_bytes = 0, _FIRST_BLOCKS, 0, 0
    while True:
        end = start + step
        last = end >= blocks
        row = plpy.execute(plan, [f"({start},0)", f"({_LAST_BLOCK if last else end},0)"])[0]
        if row["n_rows"]:
            chunk = _Chunk.from_aggregate(row)
            seen_bytes += chunk.nbytes
            yield chunk
        if last:
            return
        seen_blocks += end - start
        start = end
        per_block = seen_bytes / seen_blocks
        step = max(1, int(limit / per_block)) if per_block else step * 4


def _chunk_bytes(model_name, chunk_mb):
    try:
        megabytes = _DEFAULT_CHUNK_MB if chunk_mb is None else float(chunk_mb)
    except (TypeError, ValueError):
        megabytes = -1
    if not megabytes > 0:
        raise ScoringError(f"model '{model_name}': dbt_learn_score_chunk_mb must be a positive number of megabytes "
                           f"(got {chunk_mb!r}); the default is {_DEFAULT_CHUNK_MB}.")
    return int(megabytes * (1 << 20))


def _text_count(meta):
    return sum(1 for f in meta["features"] if f["kind"] == "categorical")


def _load(plpy, model_schema, model_name, version):
    # The definer function checks the caller's privilege on the model's schema and fills the registry cache.
    plpy.execute(registry._plan(plpy, "select dbt_learn.load_scoring_model($1, $2, $3)", ["text", "text", "int4"]),
                 [model_schema, model_name, version])
    return registry.cached_version(model_schema, model_name, version)


class _Chunk:
    """The rows fetched since the last flush, column by column as lists of bytes."""

    def __init__(self, names):
        self.n_rows = 0
        self.nbytes = 0
        self._columns = {name: [] for name in names}

    def add(self, rows):
        for name, values in self._columns.items():
            part = [row[name] for row in rows]
            # Fixed-width rows are measured by the first; text varies, so it is counted.
            self.nbytes += len(part[0]) * len(part) if name == "row_bytes" else sum(map(len, part))
            values.extend(part)
        self.n_rows += len(rows)

    @classmethod
    def from_aggregate(cls, row):
        """A chunk from one row of ``chunk_query``: each column already one bytes (array elements for the ids)."""
        chunk = cls(())
        chunk.n_rows = row["n_rows"]
        chunk._columns = {name: [value or b""] for name, value in row.items() if name != "n_rows"}
        chunk.nbytes = sum(len(value[0]) for value in chunk._columns.values())
        return chunk

    def joined(self, name):
        return b"".join(self._columns.pop(name))


class _Layout:
    """Where the features and the fixed-width ids sit in ``row_bytes``."""

    def __init__(self, types, widths):
        self.types, self.widths, self.numeric = types, widths, 0

    def split(self, model_name, n_rows, blob):
        """The features (float8 bytes, row-major) and each fixed-width id column's array elements."""
        fixed = [4 + width for width in self.widths if width]
        row_width = 8 * self.numeric + sum(fixed)
        if len(blob) != row_width * n_rows:
            raise ScoringError(f"model '{model_name}': received {len(blob)} bytes for {n_rows} rows of {row_width} "
                               f"bytes; the dbt_learn macros and the installed runtime disagree - reinstall both.")
        if not fixed:
            return blob, []
        matrix = np.frombuffer(blob, dtype=np.uint8).reshape(n_rows, row_width)
        ids, start = [], 8 * self.numeric
        for width in fixed:
            block = matrix[:, start:start + width]
            start += width
            null = (block[:, :4] == 0xFF).all(axis=1)
            if null.any():  # a NULL element is its length -1 alone: drop its padding
                keep = np.ones(block.shape, dtype=bool)
                keep[null, 4:] = False
                ids.append(block[keep].tobytes())
            else:
                ids.append(block.tobytes())
        return matrix[:, :8 * self.numeric].tobytes(), ids
