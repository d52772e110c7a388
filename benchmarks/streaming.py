"""python -m benchmarks.streaming: ml_score on relations of 1M, 10M and 30M rows x 10 features, streamed in chunks.

One linear regression is trained on the 1M-row table; the benchmark's ml_score model then scores each table with it
(`dbt run -s bench_scores`), once per chunk setting. Reported per run: dbt's node time, rows per second, and the peak
private memory (RssAnon) of the one backend that ran dbt_learn.score_relation above its level when the statement
started. Writes benchmarks/results/streaming.md; docs/scaling.md discusses the figures."""

import argparse
import json
import os
import pathlib
import subprocess

from . import data
from .connection import connect
from .estimators import ESTIMATORS
from .in_database import PROJECT, REPO
from .memory import TrainingBackendMemory

SCHEMA = "dbt_learn_bench_stream"
RESULTS = pathlib.Path(__file__).resolve().parent / "results"


class ScoringBackendMemory(TrainingBackendMemory):
    """The backend that runs ``dbt_learn.score_relation`` for a model of ``schema`` (see TrainingBackendMemory)."""

    def _find(self, conn):
        row = conn.execute(
            "select pid from pg_stat_activity where pid <> pg_backend_pid() and query like %s and query like %s",
            ["%dbt_learn.score_relation(%", f"%'{self.schema}'%"]).fetchone()
        return row[0] if row else None


def _dbt(models, variables):
    completed = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(PROJECT), "--vars", json.dumps(variables),
         "--select", *models, "--target-path", str(PROJECT / "target"), "--log-path", str(PROJECT / "logs")],
        env={**os.environ, "DBT_LEARN_SCHEMA": SCHEMA}, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the benchmark failed:\n{completed.stdout[-4000:]}")
    results = json.loads((PROJECT / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}


def _train(dataset, kind):
    algorithm, params = ESTIMATORS["regression"][kind]
    _dbt(("bench_model",), {"schema": data.SCHEMA, "table": dataset.table, "algorithm": algorithm,
                            "params": params, "kind": kind})


def score(dataset, chunk_mb, threads=None):
    """One `dbt run` of bench_scores over ``dataset`` with the given chunk setting (and thread budget): node seconds
    and memory growth."""
    variables = {"schema": data.SCHEMA, "table": dataset.table, "algorithm": "linear_regression", "params": {},
                 "kind": "linear", "dbt_learn_score_chunk_mb": chunk_mb}
    if threads:
        variables["dbt_learn_threads_per_model"] = threads
    with ScoringBackendMemory(SCHEMA) as memory:
        seconds = _dbt(("bench_scores",), variables)["bench_scores"]
    return {"rows": dataset.rows, "chunk_mb": chunk_mb, "seconds": seconds, "growth": memory.growth,
            "hwm_growth": memory.hwm_growth, "matrix": dataset.matrix_bytes}


def targets(runs, chunk_mb=64.0):
    """(target, measured figure, met) of the streaming targets, from the runs of one benchmark: memory bounded by
    the chunk setting and not by the table, time linear in the rows, and the two-core speed-up."""
    scored = sorted((r for r in runs if "rows" in r and r["chunk_mb"] == chunk_mb), key=lambda r: r["rows"])
    result = []
    if len(scored) >= 2:
        # The two largest tables: each spans many chunks, so both hold the steady state (two chunks in flight); a
        # table of one or two chunks never reaches it. Its time also carries the backend's import.
        mid, large = scored[-2], scored[-1]
        ratio = (large["growth"] or 0) / max(mid["growth"] or 1, 1)
        result.append((f"memory bounded by the setting: peak growth at {large['rows']:,} rows ≤ 1.25× that at "
                       f"{mid['rows']:,} ({chunk_mb:g} MB chunks)",
                       f"{ratio:.2f}× ({(large['growth'] or 0) / 2**20:.0f} vs {(mid['growth'] or 0) / 2**20:.0f} "
                       f"MiB; the float64 matrix is {large['matrix'] / 2**20:,.0f} MiB)", ratio <= 1.25))
        per_row = (large["seconds"] / large["rows"]) / (mid["seconds"] / mid["rows"])
        result.append((f"time linear in the rows: seconds per row at {large['rows']:,} ≤ 1.25× that at "
                       f"{mid['rows']:,}", f"{per_row:.2f}× ({large['seconds']:.1f} s vs {mid['seconds']:.1f} s)",
                       per_row <= 1.25))
    for run in (r for r in runs if "speedup" in r):
        speedup = run["one"]["seconds"] / run["two"]["seconds"]
        result.append((f"both cores, {run['speedup']}, {run['one']['rows']:,} rows: two threads ≥ 1.7× one",
                       f"{speedup:.2f}× ({run['one']['seconds']:.1f} s vs {run['two']['seconds']:.1f} s)",
                       speedup >= 1.7))
    return result


def _met(met):
    return "met" if met else "not met"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.streaming", description=__doc__)
    parser.add_argument("--rows", default="1000000,10000000,30000000")
    parser.add_argument("--chunks", default="64,256", help="dbt_learn_score_chunk_mb values, comma-separated")
    parser.add_argument("--speedup-rows", default="10000000", help="table size of the one- vs two-thread runs")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "streaming.md")
    parser.add_argument("--quick", action="store_true", help="20k and 60k rows: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.chunks, args.speedup_rows = "20000,60000", "0.5,64", "60000"
    sizes = [int(r) for r in args.rows.split(",")]
    datasets = [data.Dataset(rows, 10, "regression") for rows in sizes]
    with connect() as conn:
        for dataset in datasets:
            data.create(conn, dataset)
    train_on = data.Dataset(min(sizes), 10, "regression")
    _train(train_on, "linear")
    lines = ["# Streaming scoring (linear regression, 10 float features, one run each)", "",
             f"Trained once on {train_on.rows:,} rows; `dbt run -s bench_scores` over each table with one thread per "
             "model (one backend streams the table). Node time includes "
             "the backend's scikit-learn import; memory is the scoring backend's peak RssAnon growth (and the "
             "kernel's VmHWM bound) while dbt_learn.score_relation ran.", "",
             "| rows | chunk setting | node time | rows/s | peak growth | VmHWM bound | float64 matrix |",
             "|---|---|---|---|---|---|---|"]
    runs = []
    for dataset in datasets:
        for chunk_mb in (float(c) for c in args.chunks.split(",")):
            run = score(dataset, chunk_mb, threads=1)  # one backend: its memory is all the scoring's memory
            runs.append(run)
            lines.append(f"| {dataset.rows:,} | {chunk_mb:g} MB | {run['seconds']:.1f} s | "
                         f"{dataset.rows / run['seconds']:,.0f} | {(run['growth'] or 0) / 2**20:.0f} MiB | "
                         f"{(run['hwm_growth'] or 0) / 2**20:.0f} MiB | {dataset.matrix_bytes / 2**20:.0f} MiB |")
            print(lines[-1], flush=True)
    speedup_rows = int(args.speedup_rows) if args.speedup_rows else datasets[-1].rows
    big = next(d for d in datasets if d.rows == speedup_rows)
    lines += ["", f"## Both cores: one scoring model over {big.rows:,} rows, one thread vs two", "",
              "With two threads a worker predicts chunk k while the backend reads chunk k+1; with one, each chunk is "
              "read, then predicted (dbt_learn_threads_per_model 1 vs 2, chunk setting 64 MB).", "",
              "| estimator | 1 thread | 2 threads | speed-up |", "|---|---|---|---|"]
    for kind in ("linear", "hist_gradient_boosting"):
        _train(train_on, kind)
        one, two = score(big, 64, threads=1), score(big, 64, threads=2)
        runs.append({"speedup": kind, "one": one, "two": two})
        lines.append(f"| {kind} | {one['seconds']:.1f} s | {two['seconds']:.1f} s | "
                     f"{one['seconds'] / two['seconds']:.2f}× |")
        print(lines[-1], flush=True)
    lines += ["", "## Targets (issue 11)", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {figure} | {_met(met)} |" for name, figure, met in targets(runs)]
    args.out.write_text("\n".join(lines) + "\n")
    (args.out.with_suffix(".json")).write_text(json.dumps(runs, indent=1))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
