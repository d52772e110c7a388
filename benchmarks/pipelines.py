"""The pipelines users would otherwise write, each timed as train (read + fit) and score (predict + write back).

(B) pandas: read_sql, fit, predict, to_sql.  (C) the best client pipeline: psycopg binary COPY into numpy, fit,
predict, binary COPY back.  (D) the floor: fit and predict on arrays already in memory, plus the cheapest read that
materialises every value and the cheaper of CREATE TABLE AS and a binary COPY FROM of as many rows.
"""

import time

import numpy as np

from .data import SCHEMA

_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_TRAILER = b"\xff\xff"


def _clock():
    return time.perf_counter()


def _columns(dataset, widths=None):
    """The select list every pipeline reads: id, the floats, the target, then the categories (padded to a fixed
    width for the binary reader, which then needs no per-row parsing)."""
    categories = [f"rpad({name}, {widths[name]}) as {name}" if widths else name for name in dataset.categorical_names]
    return ", ".join(["id", *dataset.feature_names, "y::float8 as y", *categories])


def _inputs(dataset, frame):
    """What the estimator is fitted on: a plain matrix, or a frame when the Pipeline encodes categories by name."""
    if dataset.categorical:
        return frame[dataset.feature_names + dataset.categorical_names]
    return frame[dataset.feature_names]


def _prediction_payload(ids, predictions):
    rows = np.empty(len(ids), dtype=[("n", ">i2"), ("l1", ">i4"), ("id", ">i8"), ("l2", ">i4"), ("p", ">f8")])
    rows["n"], rows["l1"], rows["id"], rows["l2"], rows["p"] = 2, 8, ids, 8, predictions
    return _HEADER + rows.tobytes() + _TRAILER


def _fresh_output(conn, name):
    conn.execute(f"drop table if exists {SCHEMA}.{name}")
    conn.execute(f"create table {SCHEMA}.{name} (id bigint, prediction double precision)")


def pandas_pipeline(conn, engine, dataset, estimator):
    """(B) What most notebooks do."""
    import pandas as pd

    started = _clock()
    frame = pd.read_sql(f"select {_columns(dataset)} from {SCHEMA}.{dataset.table}", engine)
    estimator.fit(_inputs(dataset, frame), frame["y"])
    trained = _clock()
    out = pd.DataFrame({"id": frame["id"], "prediction": estimator.predict(_inputs(dataset, frame))})
    out.to_sql(f"scores_b_{dataset.table}", engine, schema=SCHEMA, if_exists="replace", index=False)
    done = _clock()
    return {"train": trained - started, "score": done - trained}


def read_binary(conn, dataset):
    """id, features, y (and categories) through COPY (FORMAT binary), parsed by numpy as fixed-width records."""
    widths = None
    if dataset.categorical:
        widths = dict(zip(dataset.categorical_names, conn.execute(
            "select " + ", ".join(f"max(octet_length({name}))" for name in dataset.categorical_names)
            + f" from {SCHEMA}.{dataset.table}").fetchone()))
    with conn.cursor() as cursor:
        with cursor.copy(f"copy (select {_columns(dataset, widths)} from {SCHEMA}.{dataset.table}) to stdout "
                         f"(format binary)") as copy:
            payload = b"".join(bytes(chunk) for chunk in copy)
    fields = [("n", ">i2"), ("l0", ">i4"), ("id", ">i4")]
    fields += [item for i in range(dataset.features + 1) for item in ((f"l{i + 1}", ">i4"), (f"v{i}", ">f8"))]
    fields += [item for name in dataset.categorical_names
               for item in ((f"l_{name}", ">i4"), (name, f"S{widths[name]}"))]
    rows = np.frombuffer(payload, dtype=np.dtype(fields), count=dataset.rows, offset=len(_HEADER))
    X = np.column_stack([rows[f"v{i}"] for i in range(dataset.features)]).astype(np.float64)
    if dataset.categorical:
        import pandas as pd

        X = pd.DataFrame(X, columns=dataset.feature_names)
        for name in dataset.categorical_names:
            X[name] = np.char.rstrip(rows[name].astype(str))
    return rows["id"].astype(np.int64), X, rows[f"v{dataset.features}"].astype(np.float64)


def copy_pipeline(conn, dataset, estimator):
    """(C) The best client pipeline."""
    started = _clock()
    ids, X, y = read_binary(conn, dataset)
    estimator.fit(X, y)
    trained = _clock()
    name = f"scores_c_{dataset.table}"
    _fresh_output(conn, name)
    with conn.cursor() as cursor:
        with cursor.copy(f"copy {SCHEMA}.{name} from stdin (format binary)") as copy:
            copy.write(_prediction_payload(ids, estimator.predict(X)))
    done = _clock()
    return {"train": trained - started, "score": done - trained}


def floor(conn, admin_conn, dataset, estimator):
    """(D) In-memory fit and predict, the cheapest full read, and the cheaper of two bulk writes."""
    ids, X, y = read_binary(conn, dataset)
    started = _clock()
    estimator.fit(X, y)
    fitted = _clock()
    predictions = estimator.predict(X)
    predicted = _clock()
    admin_conn.execute(f"copy (select {_columns(dataset)} from {SCHEMA}.{dataset.table}) to '/dev/null' "
                       f"(format binary)")
    read = _clock()
    name = f"scores_d_{dataset.table}"
    conn.execute(f"drop table if exists {SCHEMA}.{name}")
    conn.execute(f"create table {SCHEMA}.{name} as select id::bigint, f1 * 2 as prediction "
                 f"from {SCHEMA}.{dataset.table}")
    ctas = _clock()
    _fresh_output(conn, name)
    copy_started = _clock()
    with conn.cursor() as cursor:
        with cursor.copy(f"copy {SCHEMA}.{name} from stdin (format binary)") as copy:
            copy.write(_prediction_payload(ids, predictions))
    copied = _clock()
    write = min(ctas - read, copied - copy_started)
    return {"train": (read - predicted) + (fitted - started), "score": (predicted - fitted) + write}
