"""(E) Online scoring, one row per request: dbt_learn.predict() in SQL against a Flask microservice that looks the
row up in Postgres and predicts with the same estimator. Each client is its own process with its own connection;
it warms up, waits for the others, then sends requests back to back for a fixed time."""

import multiprocessing
import os
import pathlib
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
from psycopg import sql

from .connection import connect
from .data import SCHEMA

REPO = pathlib.Path(__file__).resolve().parent.parent
MODEL_SCHEMA, MODEL_NAME = f"{SCHEMA}_dbt", "bench_model"
_WARMUP_REQUESTS = 50


def _sql_client(dataset, seed, barrier, seconds, results):
    query = sql.SQL("select dbt_learn.predict(%s, %s, {}) from {}.{} where id = %s").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in dataset.feature_names),
        sql.Identifier(SCHEMA), sql.Identifier(dataset.table))
    with connect() as conn:
        ids = np.random.default_rng(seed).integers(1, dataset.rows + 1, size=1_000_000).tolist()

        def request(row_id):
            return conn.execute(query, [MODEL_SCHEMA, MODEL_NAME, row_id], prepare=True).fetchone()[0]

        results.put(_timed_loop(request, ids, barrier, seconds))


def _http_client(port, dataset, seed, barrier, seconds, results):
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port)  # keep-alive, like a pooled client
    ids = np.random.default_rng(seed).integers(1, dataset.rows + 1, size=1_000_000).tolist()

    def request(row_id):
        connection.request("GET", f"/predict/{row_id}")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"microservice answered {response.status}: {body[:200]}")
        return body

    results.put(_timed_loop(request, ids, barrier, seconds))


def _timed_loop(request, ids, barrier, seconds):
    try:
        for row_id in ids[:_WARMUP_REQUESTS]:  # the first call in a backend imports scikit-learn, loads the model
            request(row_id)
    except Exception as exc:
        barrier.abort()  # release the other clients; the parent reports this error
        return f"{type(exc).__name__}: {exc}"
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        return "stopped: another client failed"
    latencies, position = [], _WARMUP_REQUESTS
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        request(ids[position % len(ids)])
        latencies.append(time.perf_counter() - started)
        position += 1
    return latencies


def _measure(target, args, clients, seconds):
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients), context.Queue()
    processes = [context.Process(target=target, args=(*args, seed, barrier, seconds, results))
                 for seed in range(clients)]
    for process in processes:
        process.start()
    answers = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    errors = sorted((answer for answer in answers if isinstance(answer, str)), key=lambda e: e.startswith("stopped"))
    if errors or any(process.exitcode for process in processes):
        raise RuntimeError(f"an online benchmark client failed: {errors[0] if errors else 'see its traceback'}")
    latencies = [value for answer in answers for value in answer]
    return {"p50_ms": 1000 * float(np.percentile(latencies, 50)), "p99_ms": 1000 * float(np.percentile(latencies, 99)),
            "throughput": len(latencies) / seconds}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _export_artifact(admin_conn, directory):
    """The deployed version's artifact, as the microservice would ship it: a joblib file."""
    artifact = admin_conn.execute(
        "select a.artifact from dbt_learn.model_artifacts a join dbt_learn.model_versions v using "
        "(model_schema, model_name, version) left join dbt_learn.deployed_versions d using (model_schema, model_name) "
        "where v.model_schema = %s and v.model_name = %s and v.version = coalesce(d.version, "
        "(select max(version) from dbt_learn.model_versions where model_schema = %s and model_name = %s))",
        [MODEL_SCHEMA, MODEL_NAME, MODEL_SCHEMA, MODEL_NAME]).fetchone()[0]
    path = pathlib.Path(directory) / "model.joblib"
    path.write_bytes(artifact)
    return path


class Microservice:
    """gunicorn with one worker per core and 8 threads each, so 16 clients are served concurrently."""

    def __init__(self, env, dataset, artifact):
        self.port = _free_port()
        self.env = {**env, "BENCH_TABLE": f"{SCHEMA}.{dataset.table}", "BENCH_FEATURES": ",".join(
            dataset.feature_names), "BENCH_ARTIFACT": str(artifact), "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1"}
        self.process = None

    def __enter__(self):
        gunicorn = pathlib.Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [str(gunicorn), "--workers", str(os.cpu_count() or 1), "--worker-class", "gthread", "--threads", "8",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "benchmarks.microservice:app"],
            cwd=REPO, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        import http.client

        for _ in range(300):
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/health")
                if connection.getresponse().status == 200:
                    return self
            except OSError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"the microservice did not start:\n{self.process.stderr.read().decode()[-2000:]}")
            time.sleep(0.1)
        raise RuntimeError("the microservice did not answer /health within 30 s")

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def run(admin_conn, dataset, clients=(1, 4, 16), seconds=3.0, repeats=3):
    """Rows of {clients, pipeline, p50_ms, p99_ms, throughput}: medians over the repeats. The rows are looked up by
    id through the unique index data.create makes."""
    env = dict(os.environ)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dbt_learn_bench_") as directory:
        with Microservice(env, dataset, _export_artifact(admin_conn, directory)) as service:
            for count in clients:
                for name, target, args in (("E predict() in SQL", _sql_client, (dataset,)),
                                           ("E microservice (Flask)", _http_client, (service.port, dataset))):
                    runs = [_measure(target, args, count, seconds) for _ in range(repeats)]
                    rows.append({"clients": count, "pipeline": name,
                                 **{key: statistics.median(r[key] for r in runs) for key in runs[0]}})
    return rows
