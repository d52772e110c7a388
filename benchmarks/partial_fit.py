"""python -m benchmarks.partial_fit: meta.partial_fit trains SGDRegressor over tables of 1M, 3M and 30M rows x 10
features in chunks (var dbt_learn_training_chunk_mb), with the training backend's memory bounded by the chunk, not
by the table; compared, at the smallest size, with the usual in-memory fit of the same estimator.

Each run is one `dbt run` of one ml_train model (holdout_size 0.2, retrain_policy always) in a scratch dbt project
that uses this repo's dbt_learn; reported: rows, epochs, dbt's node time, the peak RssAnon growth of the backend that
ran dbt_learn.train_query (and the kernel's VmHWM bound), the float64 matrix the table would take, and the holdout
r2. Writes benchmarks/results/partial_fit.md (and .json); `--quick` runs small tables (a smoke run for the tests)."""

import argparse
import json
import os
import pathlib
import subprocess
import tempfile

from . import data
from .connection import connect
from .memory import TrainingBackendMemory

REPO = pathlib.Path(__file__).resolve().parent.parent
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
SCHEMA = "dbt_learn_bench_partial_fit"
ALGORITHM, PARAMS = "sgd_regressor", {"random_state": 0}
MODEL = """{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': var('algorithm'), 'params': var('params', {}), 'id_columns': ['id'],
    'holdout_size': 0.2, 'retrain_policy': 'always', 'random_state': 0, 'partial_fit': var('partial_fit', none),
}) }}
select * from {{ api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) }}
"""


def _project(scratch):
    """A dbt project with the one model, using this repo as its dbt_learn package (and the bench's dbt_utils)."""
    root = pathlib.Path(scratch)
    (root / "models").mkdir()
    (root / "models" / "bench_partial_fit.sql").write_text(MODEL)
    (root / "dbt_project.yml").write_text('name: dbt_learn_bench_partial_fit\nversion: "1.0.0"\nconfig-version: 2\n'
                                          'profile: dbt_learn\nmodel-paths: ["models"]\n')
    (root / "dbt_packages").mkdir()
    (root / "dbt_packages" / "dbt_learn").symlink_to(REPO)
    utils = REPO / "benchmarks" / "dbt_bench" / "dbt_packages" / "dbt_utils"
    if utils.exists():
        (root / "dbt_packages" / "dbt_utils").symlink_to(utils)
    return root


def train(project, dataset, partial_fit, chunk_mb, schema=SCHEMA):
    """One `dbt run` of the model over ``dataset``: node seconds, memory growth and the registry's record."""
    variables = {"schema": data.SCHEMA, "table": dataset.table, "algorithm": ALGORITHM, "params": PARAMS,
                 "partial_fit": partial_fit, "dbt_learn_training_chunk_mb": chunk_mb}
    target = project / "target"
    with TrainingBackendMemory(schema) as memory:
        completed = subprocess.run(
            [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(project), "--vars",
             json.dumps(variables), "--select", "bench_partial_fit", "--target-path", str(target), "--log-path",
             str(project / "logs")], env={**os.environ, "DBT_LEARN_SCHEMA": schema}, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the benchmark failed:\n{completed.stdout[-4000:]}")
    seconds = json.loads((target / "run_results.json").read_text())["results"][0]["execution_time"]
    with connect() as conn:
        rows, holdout, metrics, evaluation = conn.execute(
            "select training_rows, holdout_rows, metrics, evaluation from dbt_learn.model_versions "
            "where model_schema = %s and model_name = 'bench_partial_fit' order by version desc limit 1",
            [schema]).fetchone()
    return {"rows": dataset.rows, "partial_fit": partial_fit, "chunk_mb": chunk_mb, "seconds": seconds,
            "growth": memory.growth, "hwm_growth": memory.hwm_growth, "matrix": dataset.matrix_bytes,
            "training_rows": rows, "holdout_rows": holdout, "r2": metrics.get("r2"),
            "chunks": (evaluation.get("partial_fit") or {}).get("chunks")}


def targets(runs):
    """(target, figure, met): peak growth at the largest table within 1.5x that at the smallest (bounded by the
    chunk), and the partial_fit holdout r2 within 0.02 of the in-memory fit's."""
    chunked = sorted((r for r in runs if r["partial_fit"]), key=lambda r: r["rows"])
    full = [r for r in runs if not r["partial_fit"]]
    result = []
    if len(chunked) >= 2:
        small, large = chunked[0], chunked[-1]
        ratio = (large["growth"] or 0) / max(small["growth"] or 1, 1)
        result.append((f"partial_fit memory bounded by the chunk: peak growth at {large['rows']:,} rows ≤ 1.5× that "
                       f"at {small['rows']:,}", f"{ratio:.2f}× ({(large['growth'] or 0) / 2**20:.0f} vs "
                       f"{(small['growth'] or 0) / 2**20:.0f} MiB; the float64 matrix is "
                       f"{large['matrix'] / 2**20:,.0f} MiB)", ratio <= 1.5))
    if full and chunked:
        same = next((r for r in chunked if r["rows"] == full[0]["rows"]), chunked[0])
        gap = (full[0]["r2"] or 0) - (same["r2"] or 0)
        result.append((f"partial_fit holdout r2 within 0.02 of the in-memory fit at {same['rows']:,} rows",
                       f"{same['r2']:.4f} vs {full[0]['r2']:.4f}", gap <= 0.02))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.partial_fit", description=__doc__)
    parser.add_argument("--rows", default="1000000,3000000,30000000")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--chunk-mb", type=float, default=64.0)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "partial_fit.md")
    parser.add_argument("--quick", action="store_true", help="20k and 60k rows, 0.25 MB chunks: a smoke run")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.chunk_mb = "20000,60000", 0.25
    datasets = [data.Dataset(int(rows), 10, "regression") for rows in args.rows.split(",")]
    with connect() as conn:
        for dataset in datasets:
            data.create(conn, dataset)
    load = pathlib.Path("/proc/loadavg").read_text().split()[:3]
    lines = ["# Incremental training (meta.partial_fit), SGDRegressor, 10 float features", "",
             f"One `dbt run` per row; holdout_size 0.2; chunks of {args.chunk_mb:g} MB "
             f"(var dbt_learn_training_chunk_mb). Memory: the training backend's peak RssAnon growth while "
             f"dbt_learn.train_query ran (and the kernel's VmHWM bound). Load average at the start: {' '.join(load)}.",
             "", "| rows | fit | epochs | chunks | node time | peak growth | VmHWM bound | float64 matrix | "
             "holdout r2 |", "|---|---|---|---|---|---|---|---|---|"]
    runs = []
    with tempfile.TemporaryDirectory() as scratch:
        project = _project(scratch)
        plan = [(datasets[0], None)] + [(d, {"epochs": args.epochs}) for d in datasets]
        for dataset, partial_fit in plan:
            # The quick run has a schema of its own: a sampler follows the one backend training in its schema.
            run = train(project, dataset, partial_fit, args.chunk_mb, SCHEMA + ("_quick" if args.quick else ""))
            runs.append(run)
            lines.append(f"| {dataset.rows:,} | {'partial_fit' if partial_fit else 'in memory'} | "
                         f"{args.epochs if partial_fit else '-'} | {run['chunks'] or '-'} | {run['seconds']:.1f} s | "
                         f"{(run['growth'] or 0) / 2**20:.0f} MiB | {(run['hwm_growth'] or 0) / 2**20:.0f} MiB | "
                         f"{dataset.matrix_bytes / 2**20:,.0f} MiB | {run['r2']:.4f} |")
            print(lines[-1], flush=True)
    lines += ["", "## Targets (issue 11, item 2)", "", "| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {figure} | {'met' if met else 'not met'} |" for name, figure, met in targets(runs)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    args.out.with_suffix(".json").write_text(json.dumps(runs, indent=1))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
