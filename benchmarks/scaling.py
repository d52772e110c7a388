"""python -m benchmarks.scaling: how dbt_learn's cost grows from 100k to 10M rows (linear regression, 10 features),
and what splitting one scoring model in two, run by two dbt threads, buys on this machine. Writes
benchmarks/results/scaling.md; docs/scaling.md discusses the figures."""

import argparse
import pathlib

from . import data, in_database
from .__main__ import RESULTS
from .connection import connect

SPLIT = ("bench_half_0", "bench_half_1")
SPLIT_SCORES = ("bench_scores_half_0", "bench_scores_half_1")


def _dbt_run(dataset, models, threads):
    return in_database.run_dbt({"schema": data.SCHEMA, "table": dataset.table, "algorithm": "linear_regression",
                                "params": {}, "kind": "linear"}, models, threads)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scaling", description=__doc__)
    parser.add_argument("--rows", default="100000,1000000,10000000")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "scaling.md")
    args = parser.parse_args(argv)
    lines = ["# Scaling (linear regression, 10 float features, one run each)", "",
             "dbt's node times; each includes one fresh backend's scikit-learn import (about 1-1.5 s).", "",
             "| rows | train node | score node | peak backend memory |",
             "|---|---|---|---|"]
    split = ["", "## One scoring model vs. two half-table models on two dbt threads", "",
             "| rows | one model: score node | two models: wall of the pair's nodes | speed-up |", "|---|---|---|---|"]
    with connect() as conn:
        for rows in (int(r) for r in args.rows.split(",")):
            dataset = data.Dataset(rows, 10, "regression")
            data.create(conn, dataset)
            run = in_database.dbt_pipeline(dataset, "linear", measure_memory=True)
            lines.append(f"| {rows:,} | {run['train']:.2f} s | {run['score']:.2f} s | "
                         f"{(run['peak_memory'] or 0) / 2**20:.0f} MiB |")
            _dbt_run(dataset, SPLIT, 1)
            _, one = _dbt_run(dataset, ("bench_scores",), 1)
            _, pair = _dbt_run(dataset, SPLIT_SCORES, 2)
            both = max(pair.values())  # the two nodes run side by side
            split.append(f"| {rows:,} | {one['bench_scores']:.2f} s | {both:.2f} s (each: "
                         f"{', '.join(f'{v:.2f}' for v in pair.values())}) | {one['bench_scores'] / both:.2f}× |")
            print(lines[-1], split[-1], sep="\n", flush=True)
    args.out.write_text("\n".join(lines + split) + "\n")
    print(args.out.read_text())


if __name__ == "__main__":
    main()
