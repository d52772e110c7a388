"""(A) dbt_learn: `dbt run` of an ml_train model and its ml_score table, timed end to end (with dbt's start-up) and
per model as dbt reports it; the scikit-learn import each fresh backend pays is measured on its own, so the
database work and dbt's overhead can be told apart."""

import contextlib
import json
import os
import pathlib
import subprocess
import time

from .connection import connect
from .data import SCHEMA
from .estimators import ESTIMATORS
from .memory import PeakBackendMemory, rss_anon

PROJECT = pathlib.Path(__file__).resolve().parent / "dbt_bench"
REPO = PROJECT.parent.parent
MODELS = ("bench_model", "bench_scores")
CATEGORICAL_MODELS = ("bench_model_categorical", "bench_scores_categorical")  # a dbt Python model with a Pipeline


def run_dbt(variables, models, threads=1):
    """`dbt run --select models` of the benchmark project; returns its wall time and dbt's time per node."""
    started = time.perf_counter()
    completed = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(PROJECT), "--vars", json.dumps(variables),
         "--select", *models, "--threads", str(threads), "--target-path", str(PROJECT / "target"),
         "--log-path", str(PROJECT / "logs")],
        env={**os.environ, "DBT_LEARN_SCHEMA": f"{SCHEMA}_dbt"}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the benchmark failed:\n{completed.stdout[-4000:]}")
    results = json.loads((PROJECT / "target" / "run_results.json").read_text())["results"]
    return wall, {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}


def dbt_pipeline(dataset, kind, measure_memory=False):
    """{train, score: node times; wall: the whole `dbt run`; peak_memory: bytes of the largest backend, sampled
    only when asked (the sampling would slow the timed runs down)}.

    One dbt thread: the scores depend on the model, so the two never run at once, and dbt_learn's default thread
    cap (cores ÷ dbt threads per model) then gives each model every core, as the other pipelines have."""
    algorithm, params = ESTIMATORS[dataset.task][kind]
    variables = {"schema": SCHEMA, "table": dataset.table, "algorithm": algorithm, "params": params, "kind": kind}
    model, scores = CATEGORICAL_MODELS if dataset.categorical else MODELS
    with (PeakBackendMemory() if measure_memory else contextlib.nullcontext()) as peak:
        wall, by_node = run_dbt(variables, (model, scores))
    return {"train": by_node[model], "score": by_node[scores], "wall": wall,
            "peak_memory": peak.bytes if measure_memory else None}


def backend_import(dataset, kind):
    """What a fresh backend pays before any data moves: connect, load the runtime, import scikit-learn and the
    estimator's module (dbt_learn.describe_algorithm does exactly that, on no data). Returns the seconds and the
    backend's private memory afterwards, the baseline every dbt_learn backend carries."""
    algorithm, params = ESTIMATORS[dataset.task][kind]
    started = time.perf_counter()
    with connect() as conn:
        conn.execute("select dbt_learn.describe_algorithm(%s, %s, %s::jsonb, 0)",
                     ["bench_import", algorithm, json.dumps(params)]).fetchone()
        seconds = time.perf_counter() - started
        pid = conn.execute("select pg_backend_pid()").fetchone()[0]
        return {"seconds": seconds, "baseline_memory": rss_anon(str(pid)) or None}
