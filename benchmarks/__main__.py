"""python -m benchmarks [--quick]: builds the tables, runs every pipeline, writes benchmarks/results/.
python -m benchmarks load [--quick]: train-and-score cycles, registry counts and backend memory (benchmarks/load.py)."""

import argparse
import json
import os
import pathlib
import statistics
import sys

from . import data, in_database, monitoring, online, pipelines, remote, report
from .connection import connect, engine as make_engine
from .estimators import ESTIMATORS, make

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def _median(runs, key):
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def _batch(conn, admin_conn, engine, dataset, kind, repeats, results):
    runs = {"A": [], "B": [], "C": [], "D": [], "import": []}
    def estimator():
        return make(dataset.task, kind, dataset.categorical_names)

    for _ in range(repeats):
        runs["A"].append(in_database.dbt_pipeline(dataset, kind))
        runs["import"].append(in_database.backend_import(dataset, kind))
        runs["B"].append(pipelines.pandas_pipeline(conn, engine, dataset, estimator()))
        runs["C"].append(pipelines.copy_pipeline(conn, dataset, estimator()))
        runs["D"].append(pipelines.floor(conn, admin_conn, dataset, estimator()))
    imports = _median(runs["import"], "seconds")
    # Node times include one scikit-learn import per model (each dbt model gets a fresh backend).
    in_db = [{"train": a["train"] - imports, "score": a["score"] - imports} for a in runs["A"]]
    rows = {"A dbt_learn (in database)": in_db, "B pandas": runs["B"], "C psycopg COPY": runs["C"],
            "D floor": runs["D"]}
    floor_total = _median(runs["D"], "train") + _median(runs["D"], "score")
    base = {"dataset": dataset.label, "estimator": kind, "rows": dataset.rows, "features": dataset.features,
            "task": dataset.task, "categorical": dataset.categorical}
    for name, pipeline_runs in rows.items():
        train, score = _median(pipeline_runs, "train"), _median(pipeline_runs, "score")
        results["batch"].append({**base, "pipeline": name, "train": train, "score": score, "total": train + score,
                                 "vs_floor": (train + score) / floor_total})
    wall = _median(runs["A"], "wall")
    results["batch"].append({**base, "pipeline": "A dbt_learn (dbt run, wall clock)", "train": None, "score": None,
                             "total": wall, "vs_floor": wall / floor_total})
    nodes = statistics.median(a["train"] + a["score"] for a in runs["A"])
    results["overhead"].append({**base, "backend_import": imports,
                                "dbt_per_model": (wall - nodes) / len(in_database.MODELS),
                                "total_per_model": imports + (wall - nodes) / len(in_database.MODELS)})
    peak = in_database.dbt_pipeline(dataset, kind, measure_memory=True)["peak_memory"]  # one more, untimed run
    baseline = _median(runs["import"], "baseline_memory")
    growth = peak - baseline if peak and baseline else None
    results["memory"].append({**base, "peak_backend": peak, "baseline": baseline, "growth": growth,
                              "matrix": dataset.matrix_bytes,
                              "ratio": growth / dataset.matrix_bytes if growth is not None else None})
    in_db_total = _median(in_db, "train") + _median(in_db, "score")
    print(f"  {dataset.label} {kind}: A {in_db_total:.2f} s, D {floor_total:.2f} s", flush=True)


def run(datasets, kinds, repeats, out_dir, online_clients=(1, 4, 16), online_seconds=3.0, with_remote=True):
    results = {"machine": report.machine_facts(), "repeats": repeats, "batch": [], "overhead": [], "memory": [],
               "online": [], "remote": [], "notes": []}
    online_dataset = max((d for d in datasets if d.task == "regression" and d.features == min(
        x.features for x in datasets) and not d.categorical), key=lambda d: d.rows, default=None)
    with connect() as conn, connect(admin=True) as admin_conn:
        engine = make_engine()
        for dataset in datasets:
            data.create(conn, dataset)
            for kind in kinds:
                _batch(conn, admin_conn, engine, dataset, kind, repeats, results)
                if dataset == online_dataset and online_clients:
                    # bench_model now serves this dataset's estimator: time it row by row.
                    for row in online.run(admin_conn, dataset, online_clients, online_seconds, repeats):
                        results["online"].append({"dataset": dataset.label, "estimator": kind, **row})
    if with_remote:
        _remote(datasets, kinds, repeats, results)
    else:
        results["notes"].append("(F) remote link: skipped (--no-remote).")
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1))
    text = report.markdown(results)
    (out_dir / "results.md").write_text(text)
    report.chart(results, out_dir / "results.png")
    return text


def _remote(datasets, kinds, repeats, results):
    why = remote.ShapedLink.unavailable()
    if why:
        results["notes"].append(f"(F) remote link: skipped, {why}.")
        print(f"benchmarks: (F) skipped: {why}", flush=True)
        return
    plain = [d for d in datasets if not d.categorical]
    targets = [d for d in plain if d.features == min(x.features for x in plain)
               and d.rows == max(x.rows for x in plain)]  # the target tables (1M x 10): B at 1M costs ~25 s a run
    with remote.ShapedLink(os.environ["DBT_LEARN_PORT"]) as link:
        results["notes"].append(f"(F) remote link shaped with {link.shaping}.")
        for dataset in targets:
            for kind in kinds:
                answer = link.run_pipelines(dataset, kind, repeats)
                for name, runs in answer["runs"].items():
                    train, score = _median(runs, "train"), _median(runs, "score")
                    results["remote"].append({"dataset": dataset.label, "estimator": kind, "pipeline": name,
                                              "train": train, "score": score, "total": train + score,
                                              "round_trip_ms": answer["round_trip_ms"]})


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["load"]:
        from . import load

        return load.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="small tables, one repeat, short online runs, no remote link: a smoke run for the tests")
    parser.add_argument("--rows", default="100000,1000000")
    parser.add_argument("--features", default="10,50")
    parser.add_argument("--tasks", default="regression,classification")
    parser.add_argument("--categorical", default="1000000",
                        help="row counts of the variant with 3 categorical columns (regression, 10 features)")
    parser.add_argument("--estimators", default=",".join(ESTIMATORS["regression"]))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-online", action="store_true", help="skip (E), row-level predict vs. a microservice")
    parser.add_argument("--no-remote", action="store_true", help="skip (F), the shaped network link")
    parser.add_argument("--monitoring-rows", type=int, default=10_000_000,
                        help="rows of the prediction log of the monitoring benchmark (0 to skip it)")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args(argv)
    clients, seconds = (1, 4, 16), 3.0
    if args.quick:
        args.rows, args.features, args.repeats, args.estimators, args.categorical = "2000", "5", 1, "linear", "2000"
        args.no_remote, clients, seconds = True, (1, 2), 0.5
        args.monitoring_rows = min(args.monitoring_rows, 20_000)
    datasets = [data.Dataset(int(r), int(f), t) for t in args.tasks.split(",") for r in args.rows.split(",")
                for f in args.features.split(",")]
    datasets += [data.Dataset(int(r), min(int(f) for f in args.features.split(",")), "regression", categorical=3)
                 for r in args.categorical.split(",") if r]
    print(run(datasets, args.estimators.split(","), args.repeats, args.out,
              online_clients=() if args.no_online else clients, online_seconds=seconds,
              with_remote=not args.no_remote))
    if args.monitoring_rows:
        figures = monitoring.run(args.monitoring_rows, 1 if args.quick else args.repeats, 3 if args.quick else 100)
        print(monitoring.write(figures, args.out))


if __name__ == "__main__":
    main()
