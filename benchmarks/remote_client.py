"""Runs inside the benchmark's network namespace (see remote.py): (B) and (C) against the shaped link; prints JSON."""

import json
import statistics
import sys
import time

from . import pipelines
from .connection import connect, engine
from .data import Dataset
from .estimators import make


def main(argv):
    spec = json.loads(argv[0])
    dataset = Dataset(spec["rows"], spec["features"], spec["task"], spec["categorical"])
    runs = {"F remote B pandas": [], "F remote C psycopg COPY": []}
    with connect() as conn:
        round_trips = []
        for _ in range(50):
            started = time.perf_counter()
            conn.execute("select 1").fetchone()
            round_trips.append(time.perf_counter() - started)
        sql_engine = engine()
        for _ in range(spec["repeats"]):
            estimator = make(dataset.task, spec["kind"], dataset.categorical_names)
            runs["F remote B pandas"].append(pipelines.pandas_pipeline(conn, sql_engine, dataset, estimator))
            estimator = make(dataset.task, spec["kind"], dataset.categorical_names)
            runs["F remote C psycopg COPY"].append(pipelines.copy_pipeline(conn, dataset, estimator))
    print(json.dumps({"runs": runs, "round_trip_ms": 1000 * statistics.median(round_trips)}))


if __name__ == "__main__":
    main(sys.argv[1:])
