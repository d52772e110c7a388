"""(A) dbt_learn: `dbt run` of an ml_train model and its ml_score table, timed end to end (with dbt's start-up) and
per model as dbt reports it (the database work, without dbt's start-up)."""

import json
import os
import pathlib
import subprocess
import time

from .data import SCHEMA
from .estimators import ESTIMATORS

PROJECT = pathlib.Path(__file__).resolve().parent / "dbt_bench"
REPO = PROJECT.parent.parent


def dbt_pipeline(dataset, kind):
    algorithm, params = ESTIMATORS[dataset.task][kind]
    variables = json.dumps({"schema": SCHEMA, "table": dataset.table, "algorithm": algorithm, "params": params})
    env = {**os.environ, "DBT_LEARN_SCHEMA": f"{SCHEMA}_dbt"}
    started = time.perf_counter()
    completed = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(PROJECT), "--vars", variables,
         "--target-path", str(PROJECT / "target"), "--log-path", str(PROJECT / "logs")],
        env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the benchmark failed:\n{completed.stdout[-4000:]}")
    results = json.loads((PROJECT / "target" / "run_results.json").read_text())["results"]
    by_node = {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}
    train, score = by_node["bench_model"], by_node["bench_scores"]
    return {"train": train, "score": score, "dbt_overhead": wall - train - score}
