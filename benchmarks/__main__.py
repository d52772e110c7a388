"""python -m benchmarks [--quick]: builds the tables, runs every pipeline, writes benchmarks/results/."""

import argparse
import os
import pathlib
import statistics

import psycopg

from . import data, in_database, pipelines, report
from .estimators import ESTIMATORS, make

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def _connect(admin=False):
    prefix = "DBT_LEARN_ADMIN_" if admin else "DBT_LEARN_"
    return psycopg.connect(host=os.environ["DBT_LEARN_HOST"], port=os.environ["DBT_LEARN_PORT"],
                           dbname=os.environ["DBT_LEARN_DATABASE"], user=os.environ[prefix + "USER"],
                           password=os.environ[prefix + "PASSWORD"], autocommit=True)


def _engine():
    from sqlalchemy import create_engine

    return create_engine(
        f"postgresql+psycopg://{os.environ['DBT_LEARN_USER']}:{os.environ['DBT_LEARN_PASSWORD']}"
        f"@{os.environ['DBT_LEARN_HOST']}:{os.environ['DBT_LEARN_PORT']}/{os.environ['DBT_LEARN_DATABASE']}")


def _median(runs):
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def run(datasets, kinds, repeats, out_dir):
    rows = []
    with _connect() as conn, _connect(admin=True) as admin_conn:
        engine = _engine()
        for dataset in datasets:
            data.create(conn, dataset)
            for kind in kinds:
                timings = {
                    "A dbt_learn (calls)": [], "B pandas": [], "C psycopg COPY": [], "D floor": [],
                }
                overheads = []
                for _ in range(repeats):
                    a = in_database.dbt_pipeline(dataset, kind)
                    overheads.append(a.pop("dbt_overhead"))
                    timings["A dbt_learn (calls)"].append(a)
                    timings["B pandas"].append(pipelines.pandas_pipeline(conn, engine, dataset, make(dataset.task,
                                                                                                      kind)))
                    timings["C psycopg COPY"].append(pipelines.copy_pipeline(conn, dataset, make(dataset.task, kind)))
                    timings["D floor"].append(pipelines.floor(conn, admin_conn, dataset, make(dataset.task, kind)))
                medians = {name: _median(runs) for name, runs in timings.items()}
                floor_total = medians["D floor"]["train"] + medians["D floor"]["score"]
                medians["A dbt_learn (dbt run)"] = {"train": medians["A dbt_learn (calls)"]["train"],
                                                    "score": medians["A dbt_learn (calls)"]["score"]
                                                    + statistics.median(overheads)}
                for name, median in sorted(medians.items()):
                    total = median["train"] + median["score"]
                    rows.append({"dataset": f"{dataset.task[:3]} {dataset.rows:,}×{dataset.features}",
                                 "estimator": kind, "pipeline": name, "train": median["train"],
                                 "score": median["score"], "total": total, "vs_floor": total / floor_total})
    out_dir.mkdir(parents=True, exist_ok=True)
    table = report.markdown(rows, report.machine_facts())
    (out_dir / "results.md").write_text(table)
    report.chart(rows, out_dir / "results.png")
    return table


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small tables, one repeat: a smoke run for the tests")
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--features", default="10,50")
    parser.add_argument("--tasks", default="regression,classification")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS["regression"]))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.features, args.repeats, args.estimators = "2000", "5", 1, "linear"
    datasets = [data.Dataset(int(r), int(f), t) for t in args.tasks.split(",") for r in args.rows.split(",")
                for f in args.features.split(",")]
    print(run(datasets, args.estimators.split(","), args.repeats, args.out))


if __name__ == "__main__":
    main()
