"""What the automatic preprocessing of SQL ml_train models costs (issue 10, deliverable 8), timed through real
`dbt run`s of an ml_train model and its ml_score table, as benchmarks/in_database.py times the in-database path.

1. 1M x 10 numeric tables (benchmarks/data.py), linear and hist_gradient_boosting, regression and classification:
   meta.preprocessing 'auto' (the default) against 'off'. Target: 'auto' adds at most 20 % to train and to score.
2. 1M rows with three skewed text columns (20, 200 and 2,000 distinct values) and 7 floats, against the same rows
   with those columns already integer codes; both with the default preprocessing. Target: within 1.5x.

Times are dbt's node times minus the scikit-learn import every fresh backend pays (measured on its own, as in
results.md), medians of `repeats` runs; the variants of a comparison alternate run by run. The model computes no
feature importances (meta.importances false): they cost the same with or without preprocessing.

    python -m benchmarks.preprocessing [--rows 1000000] [--repeats 3]   # make bench-preprocessing
    python -m benchmarks.preprocessing --quick                          # 20k rows, linear: a smoke run
"""

import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import tempfile
import time

from . import data, preprocessing_data, report
from .connection import connect
from .estimators import ESTIMATORS
from .in_database import backend_import

REPO = pathlib.Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"
BENCH_SCHEMA = f"{data.SCHEMA}_preprocessing"
MODEL, SCORES = "pp_model", "pp_scores"
TRAIN_LIMIT, SCORE_LIMIT, TEXT_LIMIT = 1.2, 1.2, 1.5

_MODEL_SQL = """-- One fit on every row (no holdout), retrained on every run: the work of dbt_bench's bench_model.
-- Importances off: they are the same work with or without preprocessing, and are not what is measured here.
{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': var('algorithm'), 'params': var('params', {}), 'id_columns': ['id'],
    'holdout_size': 0, 'retrain_policy': 'always', 'preprocessing': var('preprocessing', 'auto'),
    'importances': false,
}) }}
select * from {{ api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) }}
"""
_SCORES_SQL = """{{ config(materialized='table') }}
{%- set rows = api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) %}
select id, prediction from {{ dbt_learn.ml_score(ref('pp_model'), rows) }}
"""


def make_project(root):
    """A throwaway dbt project with the two models, using this checkout as the dbt_learn package."""
    root = pathlib.Path(root)
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text('name: dbt_learn_preprocessing_bench\nversion: "1.0.0"\n'
                                          'config-version: 2\nprofile: dbt_learn\nmodel-paths: ["models"]\n')
    (root / "models" / f"{MODEL}.sql").write_text(_MODEL_SQL)
    (root / "models" / f"{SCORES}.sql").write_text(_SCORES_SQL)
    packages = root / "dbt_packages"
    packages.mkdir()
    (packages / "dbt_learn").symlink_to(REPO, target_is_directory=True)
    for project in ("integration_tests", "benchmarks/dbt_bench"):
        utils = REPO / project / "dbt_packages" / "dbt_utils"
        if utils.is_dir():
            (packages / "dbt_utils").symlink_to(utils, target_is_directory=True)
            break
    return root


_TRANSIENT = ("the database runs runtime", "Parsing Error")


def run_dbt(project, variables, attempts=5):
    """One `dbt run` of the model and its scores (one thread, so each gets every core, as in in_database.py):
    {train, score: node seconds; wall; fit: the fit_seconds the runtime recorded}. A run refused because the
    runtime is being reinstalled or the package does not parse (a checkout being edited, a shared cluster) is
    retried after a pause."""
    for attempt in range(attempts):
        started = time.perf_counter()
        completed = subprocess.run(
            [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(project), "--vars",
             json.dumps(variables), "--select", MODEL, SCORES, "--threads", "1", "--target-path",
             str(project / "target"), "--log-path", str(project / "logs")],
            env={**os.environ, "DBT_LEARN_SCHEMA": BENCH_SCHEMA}, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if completed.returncode == 0 or not any(text in completed.stdout for text in _TRANSIENT):
            break
        print(f"  dbt_learn is being reinstalled or edited; retrying in 60 s (attempt {attempt + 1})", flush=True)
        time.sleep(60)
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the preprocessing benchmark failed ({variables}):\n"
                           f"{completed.stdout[-4000:]}")
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    nodes = {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}
    with connect() as conn:
        fit = conn.execute("select fit_seconds from dbt_learn.model_versions where model_schema = %s and "
                           "model_name = %s order by version desc limit 1", [BENCH_SCHEMA, MODEL]).fetchone()[0]
    return {"train": nodes[MODEL], "score": nodes[SCORES], "wall": wall, "fit": fit, "load": os.getloadavg()[0]}


def _imports(task, kind, repeats):
    return statistics.median(backend_import(data.Dataset(1, 1, task), kind)["seconds"] for _ in range(repeats))


def _compare(project, variants, task, kind, repeats, imports):
    """Alternate the variants (name -> (table, preprocessing)) `repeats` times; medians per variant."""
    algorithm, params = ESTIMATORS[task][kind]
    runs = {name: [] for name in variants}
    for _ in range(repeats):
        for name, (table, preprocessing) in variants.items():
            runs[name].append(run_dbt(project, {"schema": data.SCHEMA, "table": table, "algorithm": algorithm,
                                                "params": params, "preprocessing": preprocessing}))
    out = {}
    for name, measured in runs.items():
        median = {key: statistics.median(r[key] for r in measured) for key in ("train", "score", "wall", "fit",
                                                                               "load")}
        out[name] = {"variant": name, "table": variants[name][0], "preprocessing": variants[name][1],
                     "train_node": median["train"], "score_node": median["score"], "wall": median["wall"],
                     "fit_seconds": median["fit"], "load": median["load"], "import": imports,
                     "train": median["train"] - imports, "score": median["score"] - imports, "runs": measured}
    return out


def run(rows, repeats, tasks=("regression", "classification"), kinds=("linear", "hist_gradient_boosting")):
    root = pathlib.Path(tempfile.mkdtemp(prefix="dbt_learn_preprocessing_bench_"))
    try:
        project = make_project(root / "project")
        with connect() as conn:
            for task in tasks:
                data.create(conn, data.Dataset(rows, 10, task))
            preprocessing_data.create_categorical(conn, rows)
            distinct = preprocessing_data.distinct_counts(conn, rows)
        results = {"machine": report.machine_facts(), "rows": rows, "repeats": repeats, "distinct": distinct,
                   "load_before": os.getloadavg()[:2], "numeric": [], "categorical": []}
        for task in tasks:
            for kind in kinds:
                imports = _imports(task, kind, repeats)
                table = data.Dataset(rows, 10, task).table
                compared = _compare(project, {"off": (table, "off"), "auto": (table, "auto")}, task, kind, repeats,
                                    imports)
                results["numeric"].append({"task": task, "estimator": kind, **compared})
                _progress(f"{task} {kind} numeric", compared, "off", "auto")
        for kind in kinds:
            imports = _imports("regression", kind, repeats)
            compared = _compare(project, {"codes": (preprocessing_data.codes_table(rows), "auto"),
                                          "text": (preprocessing_data.text_table(rows), "auto")},
                                "regression", kind, repeats, imports)
            results["categorical"].append({"task": "regression", "estimator": kind, **compared})
            _progress(f"regression {kind} text", compared, "codes", "text")
        results["load_after"] = os.getloadavg()[:2]
        results["targets"] = targets(results)
        return results
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _progress(label, compared, base, other):
    b, o = compared[base], compared[other]
    print(f"  {label}: train {b['train']:.2f} -> {o['train']:.2f} s, score {b['score']:.2f} -> {o['score']:.2f} s "
          f"({base} -> {other})", flush=True)


def _ratio(new, old):
    return new / old if old and old > 0 else None


def targets(results):
    """(target, measured, met) rows; a ratio whose base is not positive (tiny smoke tables) is not judged."""
    rows = []
    n = f"{results['rows']:,}"
    for entry in results["numeric"]:
        off, auto = entry["off"], entry["auto"]
        for step, limit in (("train", TRAIN_LIMIT), ("score", SCORE_LIMIT)):
            ratio = _ratio(auto[step], off[step])
            rows.append({"target": f"{entry['task'][:3]} {n}×10 {entry['estimator']}: {step} with preprocessing "
                                   f"'auto' ≤ {limit}× 'off'",
                         "measured": _measured(ratio, auto[step], off[step], max(auto["load"], off["load"])),
                         "ratio": ratio,
                         "met": ratio is not None and ratio <= limit})
    for entry in results["categorical"]:
        codes, text = entry["codes"], entry["text"]
        for step in ("train", "score"):
            ratio = _ratio(text[step], codes[step])
            rows.append({"target": f"reg {n} 3 text + 7 floats {entry['estimator']}: {step} ≤ {TEXT_LIMIT}× the "
                                   f"integer-coded table",
                         "measured": _measured(ratio, text[step], codes[step], max(text["load"], codes["load"])),
                         "ratio": ratio,
                         "met": ratio is not None and ratio <= TEXT_LIMIT})
    return rows


def _measured(ratio, new, old, load=None):
    if ratio is None:
        return "—"
    busy = load is not None and load > (os.cpu_count() or 1)
    return f"{ratio:.3f}× ({new:.2f} s vs {old:.2f} s)" + (f"; load {load:.1f}: unreliable" if busy else "")


def markdown(results):
    distinct = ", ".join(f"{name} {count:,}" for name, count in results["distinct"].items())
    lines = [
        "# Preprocessing benchmark", "",
        f"Machine: {results['machine']}. Load average (1 and 5 min) before the runs "
        f"{', '.join(f'{v:.1f}' for v in results['load_before'])}, after "
        f"{', '.join(f'{v:.1f}' for v in results['load_after'])}"
        + (" (above the core count: other work shared the machine)." if max(results["load_before"]
           + results["load_after"]) > (os.cpu_count() or 1) else "."), "",
        f"{results['rows']:,} rows. Medians of {results['repeats']} `dbt run`(s) of an ml_train model (one fit on "
        "every row, no holdout) and its ml_score table, in seconds: dbt's node time minus the scikit-learn import "
        "of the fresh backend (`import`, measured alone). `fit` is the fit time the runtime records (estimator and "
        "preprocessing fit, no data transfer). The variants of a comparison alternate run by run. `load` is the "
        "median 1-minute load average after the runs: on 2 cores, OpenMP estimators (hist_gradient_boosting) slow "
        "down several-fold when other work shares the machine, so compare rows of similar load.", "",
        "## Targets", "", "| target | measured | met |", "|---|---|---|",
        *[f"| {t['target']} | {t['measured']} | {'met' if t['met'] else 'not met'} |" for t in results["targets"]],
        "", "## 1. Numeric tables: meta.preprocessing 'auto' vs 'off'", "",
        "| data | estimator | preprocessing | train | score | fit | import | train node | score node | wall | load |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for entry in results["numeric"]:
        for name in ("off", "auto"):
            lines.append(_row(f"{entry['task'][:3]} {results['rows']:,}×10", entry, name))
    lines += ["", f"## 2. Three text columns ({distinct} distinct values) + 7 floats vs the same columns as integer "
              "codes (both preprocessing 'auto')", "",
              "| data | estimator | table | train | score | fit | import | train node | score node | wall | load |",
              "|---|---|---|---|---|---|---|---|---|---|---|"]
    for entry in results["categorical"]:
        for name in ("codes", "text"):
            lines.append(_row(f"reg {results['rows']:,}", entry, name))
    return "\n".join(lines) + "\n"


def _row(label, entry, name):
    v = entry[name]
    return (f"| {label} | {entry['estimator']} | {name} | {v['train']:.3f} | {v['score']:.3f} | "
            f"{v['fit_seconds']:.3f} | {v['import']:.3f} | {v['train_node']:.3f} | {v['score_node']:.3f} | "
            f"{v['wall']:.2f} | {v['load']:.1f} |")


def write(results, out):
    text = markdown(results)
    out.mkdir(parents=True, exist_ok=True)
    (out / "preprocessing.md").write_text(text)
    (out / "preprocessing.json").write_text(json.dumps(results, indent=1))
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.preprocessing", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="20,000 rows, one repeat, regression with the linear "
                        "model only (unless --tasks/--estimators say otherwise), written to a temporary folder "
                        "unless --out is given: a smoke run of about a minute")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", default=None, help="default regression,classification")
    parser.add_argument("--estimators", default=None, help="default linear,hist_gradient_boosting")
    parser.add_argument("--out", type=pathlib.Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.repeats = min(args.rows, 20_000), 1
        args.tasks, args.estimators = args.tasks or "regression", args.estimators or "linear"
    args.tasks = args.tasks or "regression,classification"
    args.estimators = args.estimators or "linear,hist_gradient_boosting"
    out = args.out or (pathlib.Path(tempfile.gettempdir()) / "dbt_learn_preprocessing_quick" if args.quick
                       else RESULTS)
    results = run(args.rows, args.repeats, args.tasks.split(","), args.estimators.split(","))
    print(write(results, out))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
