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
APPLICATION_NAME = "dbt_learn_bench_microservice"  # how the microservice's backends are found
_WARMUP_REQUESTS = 50


def _sql_client(dataset, model_schema, seed, barrier, seconds, results):
    query = sql.SQL("select dbt_learn.predict(%s, %s, {}) from {}.{} where id = %s").format(
        sql.SQL(", ").join(sql.Identifier(name) for name in dataset.feature_names),
        sql.Identifier(SCHEMA), sql.Identifier(dataset.table))
    with connect() as conn:
        ids = np.random.default_rng(seed).integers(1, dataset.rows + 1, size=1_000_000).tolist()

        def request(row_id):
            return conn.execute(query, [model_schema, MODEL_NAME, row_id], prepare=True).fetchone()[0]

        backend = conn.execute("select pg_backend_pid()").fetchone()[0]
        results.put(_timed_loop(request, ids, barrier, seconds, backend))


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


def _timed_loop(request, ids, barrier, seconds, backend=None):
    """The request latencies of one client, and the CPU seconds this client (and its backend) spent on them."""
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
    cpu = time.process_time() + cpu_seconds([backend] if backend else [])
    deadline = time.perf_counter() + seconds
    while True:
        started = time.perf_counter()
        if started >= deadline:
            break
        request(ids[position % len(ids)])
        latencies.append(time.perf_counter() - started)
        position += 1
    return {"latencies": latencies,
            "cpu": time.process_time() + cpu_seconds([backend] if backend else []) - cpu}


def cpu_seconds(pids):
    """User + system CPU seconds the processes have used (Linux /proc); a process gone counts 0."""
    total = 0.0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _measure(target, args, clients, seconds, server_pids=None):
    """p50/p99 latency, throughput, and the CPU time per request of the clients, their backends and the processes
    ``server_pids()`` names (the microservice's): load-independent where throughput is not."""
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(clients + 1), context.Queue()
    processes = [context.Process(target=target, args=(*args, seed, barrier, seconds, results))
                 for seed in range(clients)]
    for process in processes:
        process.start()
    servers, server_cpu = [], 0.0
    try:
        barrier.wait(timeout=600)
        servers = server_pids() if server_pids else []
        server_cpu = cpu_seconds(servers)
    except threading.BrokenBarrierError:
        pass  # a client failed: its answer says why
    answers = [results.get(timeout=600) for _ in processes]
    server_cpu = cpu_seconds(servers) - server_cpu
    for process in processes:
        process.join()
    errors = sorted((answer for answer in answers if isinstance(answer, str)), key=lambda e: e.startswith("stopped"))
    if errors or any(process.exitcode for process in processes):
        raise RuntimeError(f"an online benchmark client failed: {errors[0] if errors else 'see its traceback'}")
    latencies = [value for answer in answers for value in answer["latencies"]]
    cpu = server_cpu + sum(answer["cpu"] for answer in answers)
    return {"p50_ms": 1000 * float(np.percentile(latencies, 50)), "p99_ms": 1000 * float(np.percentile(latencies, 99)),
            "throughput": len(latencies) / seconds, "cpu_us_per_request": 1e6 * cpu / len(latencies)}


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _export_artifact(admin_conn, directory, model_schema=MODEL_SCHEMA):
    """The deployed version's artifact, as the microservice would ship it."""
    artifact = admin_conn.execute(
        "select a.artifact from dbt_learn.model_artifacts a join dbt_learn.model_versions v using "
        "(model_schema, model_name, version) left join dbt_learn.deployed_versions d using (model_schema, model_name) "
        "where v.model_schema = %s and v.model_name = %s and v.version = coalesce(d.version, "
        "(select max(version) from dbt_learn.model_versions where model_schema = %s and model_name = %s))",
        [model_schema, MODEL_NAME, model_schema, MODEL_NAME]).fetchone()[0]
    path = pathlib.Path(directory) / "model.artifact"
    path.write_bytes(artifact)
    return path


class Microservice:
    """gunicorn with one worker per core and 8 threads each, so 16 clients are served concurrently."""

    def __init__(self, env, dataset, artifact):
        self.port = _free_port()
        self.env = {**env, "BENCH_TABLE": f"{SCHEMA}.{dataset.table}", "BENCH_FEATURES": ",".join(
            dataset.feature_names), "BENCH_ARTIFACT": str(artifact), "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "BENCH_APPLICATION_NAME": APPLICATION_NAME}
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

    def pids(self):
        """The gunicorn workers and the Postgres backends they opened (by application_name)."""
        workers = []
        for task in pathlib.Path(f"/proc/{self.process.pid}/task").iterdir():
            workers += [int(pid) for pid in (task / "children").read_text().split()]
        with connect(admin=True) as conn:
            backends = [row[0] for row in conn.execute(
                "select pid from pg_stat_activity where application_name = %s", [APPLICATION_NAME])]
        return workers + backends

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=30)


def run(admin_conn, dataset, clients=(1, 4, 16), seconds=3.0, repeats=3, model_schema=MODEL_SCHEMA):
    """Rows of {clients, pipeline, p50_ms, p99_ms, throughput}: medians over the repeats. The rows are looked up by
    id through the unique index data.create makes."""
    env = dict(os.environ)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dbt_learn_bench_") as directory:
        with Microservice(env, dataset, _export_artifact(admin_conn, directory, model_schema)) as service:
            pipelines = (("E predict() in SQL", _sql_client, (dataset, model_schema), None),
                         ("E microservice (Flask)", _http_client, (service.port, dataset), service.pids))
            for count in clients:
                # Alternated, so that a change in the machine's other load weighs on both sides alike.
                runs = {name: [] for name, _, _, _ in pipelines}
                for _ in range(repeats):
                    for name, target, args, server_pids in pipelines:
                        runs[name].append(_measure(target, args, count, seconds, server_pids))
                rows += [{"clients": count, "pipeline": name,
                          **{key: statistics.median(r[key] for r in runs[name]) for key in runs[name][0]}}
                         for name, _, _, _ in pipelines]
    return rows


def server_cost(conn, dataset, model_schema=MODEL_SCHEMA, rows=5000):
    """Microseconds per dbt_learn.predict call inside one backend (no client round trip): one statement scores
    ``rows`` rows row by row, minus the same statement without the call."""
    columns = sql.SQL(", ").join(sql.Identifier(name) for name in dataset.feature_names)
    source = sql.SQL("from {}.{} where id <= %s").format(sql.Identifier(SCHEMA), sql.Identifier(dataset.table))
    scored = sql.SQL("select count(dbt_learn.predict(%s, %s, {})) ").format(columns) + source
    plain = sql.SQL("select count(greatest({})) ").format(columns) + source
    conn.execute(scored, [model_schema, MODEL_NAME, 50]).fetchone()  # load the runtime and the model
    timings = []
    for statement, args in ((scored, [model_schema, MODEL_NAME, rows]), (plain, [rows])):
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            conn.execute(statement, args).fetchone()
            best = min(best, time.perf_counter() - started)
        timings.append(best)
    return 1e6 * (timings[0] - timings[1]) / rows


def train(dataset, kind, model_schema):
    """Train bench_model (the benchmark project's ml_train model) on the dataset into ``model_schema``, with dbt's
    target and logs in a temporary directory (so it never collides with a running `make bench`)."""
    import json

    from .estimators import ESTIMATORS
    from .in_database import PROJECT

    algorithm, params = ESTIMATORS[dataset.task][kind]
    variables = {"schema": SCHEMA, "table": dataset.table, "algorithm": algorithm, "params": params, "kind": kind}
    with tempfile.TemporaryDirectory(prefix="dbt_learn_online_") as directory:
        completed = subprocess.run(
            [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(PROJECT), "--vars",
             json.dumps(variables), "--select", MODEL_NAME, "--target-path", directory, "--log-path", directory],
            env={**os.environ, "DBT_LEARN_SCHEMA": model_schema}, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"training {MODEL_NAME} failed:\n{completed.stdout[-4000:]}")


def main(argv=None):
    """python -m benchmarks.online: (E) alone, per estimator: train bench_model into its own schema, the server-side
    cost of one call, then p50/p99, throughput and CPU time per request of predict() in SQL and of the microservice
    per client count (the CPU time holds where the throughput depends on the machine's other load)."""
    import argparse

    from .data import Dataset, create

    parser = argparse.ArgumentParser(prog="python -m benchmarks.online", description=main.__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--features", type=int, default=10)
    parser.add_argument("--estimators", default="linear,hist_gradient_boosting")
    parser.add_argument("--clients", default="1,4,16")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--schema", default=f"{SCHEMA}_online", help="where bench_model is trained")
    parser.add_argument("--no-train", action="store_true", help="use the bench_model already in --schema")
    args = parser.parse_args(argv)
    dataset = Dataset(args.rows, args.features, "regression")
    clients = tuple(int(c) for c in args.clients.split(",") if c)
    lines = ["| estimator | clients | pipeline | p50 ms | p99 ms | rows/s | CPU µs per request |",
             "|---|---|---|---|---|---|---|"]
    summary = []
    with connect() as conn, connect(admin=True) as admin_conn:
        create(conn, dataset)
        for kind in args.estimators.split(","):
            if not args.no_train:
                train(dataset, kind, args.schema)
            in_backend = server_cost(conn, dataset, args.schema)
            rows = run(admin_conn, dataset, clients, args.seconds, args.repeats, args.schema) if clients else []
            lines += [f"| {kind} | {r['clients']} | {r['pipeline']} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                      f"{r['throughput']:.0f} | {r['cpu_us_per_request']:.0f} |" for r in rows]
            summary.append(f"{kind}: {in_backend:.0f} µs per call in the backend (no round trip)")
            by = {(r["pipeline"], r["clients"]): r for r in rows}
            for count in clients:
                sql_row, service = by[("E predict() in SQL", count)], by[("E microservice (Flask)", count)]
                summary.append(f"  {count} clients: p50 {sql_row['p50_ms']:.3f} ms; throughput "
                               f"{sql_row['throughput'] / service['throughput']:.2f}x the microservice; CPU per "
                               f"request {service['cpu_us_per_request'] / sql_row['cpu_us_per_request']:.2f}x less")
    print("\n".join(lines + [""] + summary + [f"load average (1, 5, 15 min): {os.getloadavg()}"]))


if __name__ == "__main__":
    main()
