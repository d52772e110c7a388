"""python -m benchmarks load: train-and-score cycles on the private cluster (issue 13, Deliver 6).

Four ml_train models (random_forest_regressor, retrain_policy on_change), each with a table of scores (ml_score), in
a scratch dbt project that uses this repo's dbt_learn. A cycle changes one row of a model's training data (so the data
fingerprint changes and a new version is trained), then runs `dbt run` of the model and its scores. Phases:
`--sequential` cycles one after another on the first model; one round of `--parallel` concurrent cycles, each on a
model of its own; and (unless `--no-same-model`) 4 concurrent `dbt run`s of the first model over the same data.

Checked at the end: the registry holds exactly one version per data state a run succeeded on (versions = cycles that
trained), (model, version) is unique, no model has two versions with the same data fingerprint, no `__dbt_tmp` /
`__dbt_backup` relation is left, every scores table was written by its model's newest version, and the memory
(RssAnon: its own, not the shared buffers it touched) of one long-lived backend that scores the serving version of
every model with dbt_learn.predict() after each cycle plateaus: the estimator cache keeps at most 2 versions per
model. Writes benchmarks/results/load.md (and .json); `--quick` runs 3 sequential cycles and 2 parallel ones
(different models), without the same-model phase."""

import argparse
import concurrent.futures
import json
import os
import pathlib
import subprocess
import tempfile
import time
import uuid

from psycopg import sql

from .connection import connect

REPO = pathlib.Path(__file__).resolve().parent.parent
RESULTS = pathlib.Path(__file__).resolve().parent / "results"
MODELS = 4
ROWS = 2000
FEATURES = ("x1", "x2", "x3", "x4")
TRAIN = """{{ config(materialized='ml_train', meta={
    'target': 'y', 'algorithm': 'random_forest_regressor', 'params': {'n_estimators': var('trees', 20)},
    'id_columns': ['id'], 'retrain_policy': 'on_change', 'random_state': 0,
}) }}
select id, x1, x2, x3, x4, y from {{ api.Relation.create(database=target.database, schema=target.schema,
                                                         identifier='load_data_N') }}
"""
SCORES = """{{ config(materialized='table') }}
select id, prediction, model_version from {{ dbt_learn.ml_score(ref('load_model_N'),
    api.Relation.create(database=target.database, schema=target.schema, identifier='load_data_N')) }}
"""
# The plateau: from the 3rd sequential cycle on, the long-lived backend grows by less than this (the cache holds at
# most 2 versions per model; an untrimmed cache grows by one forest, several MiB, every cycle).
PLATEAU_BYTES = 8 * 2**20


def _project(scratch):
    root = pathlib.Path(scratch)
    (root / "models").mkdir()
    for n in range(1, MODELS + 1):
        (root / "models" / f"load_model_{n}.sql").write_text(TRAIN.replace("load_data_N", f"load_data_{n}"))
        (root / "models" / f"load_scores_{n}.sql").write_text(
            SCORES.replace("load_data_N", f"load_data_{n}").replace("load_model_N", f"load_model_{n}"))
    (root / "dbt_project.yml").write_text('name: dbt_learn_bench_load\nversion: "1.0.0"\nconfig-version: 2\n'
                                          'profile: dbt_learn\nmodel-paths: ["models"]\n')
    (root / "dbt_packages").mkdir()
    (root / "dbt_packages" / "dbt_learn").symlink_to(REPO)
    for utils in (REPO / "integration_tests" / "dbt_packages" / "dbt_utils",
                  REPO / "benchmarks" / "dbt_bench" / "dbt_packages" / "dbt_utils"):
        if utils.exists():
            (root / "dbt_packages" / "dbt_utils").symlink_to(utils)
            break
    return root


def create_data(conn, schema):
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute("select setseed(0.13)")
    for n in range(1, MODELS + 1):
        table = sql.Identifier(schema, f"load_data_{n}")
        conn.execute(sql.SQL("drop table if exists {}").format(table))
        conn.execute(sql.SQL(
            "create table {} as select g as id, x1, x2, x3, x4, 3 * x1 - 2 * x2 + x3 * x4 + (random() - 0.5) as y "
            "from (select g, random() as x1, random() as x2, random() as x3, random() as x4 "
            "from generate_series(1, %s) as g) s").format(table), [ROWS])


def change_data(conn, schema, model, state):
    """A new data state of the model: one more row's target moves a little (a new data fingerprint)."""
    conn.execute(sql.SQL("update {} set y = y + 0.001 where id = %s").format(
        sql.Identifier(schema, f"load_data_{model}")), [state % ROWS + 1])


def dbt_run(project, schema, model, tag):
    """One `dbt run` of a model and its scores, with target and log paths of its own (runs may overlap)."""
    target = project / f"target_{tag}"
    started = time.perf_counter()
    completed = subprocess.run(
        [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(project), "--select", f"load_model_{model}",
         f"load_scores_{model}", "--target-path", str(target), "--log-path", str(project / f"logs_{tag}")],
        env={**os.environ, "DBT_LEARN_SCHEMA": schema}, capture_output=True, text=True)
    wall = time.perf_counter() - started
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        results = []
    nodes = {r["unique_id"].rsplit(".", 1)[-1]: r for r in results}
    errors = [f"{name}: {r.get('message')}" for name, r in nodes.items() if r["status"] != "success"]
    if completed.returncode != 0 and not errors:
        errors = [completed.stdout[-2000:] + completed.stderr[-2000:]]
    trained = (nodes.get(f"load_model_{model}") or {}).get("status") == "success"
    return {"model": model, "tag": tag, "ok": completed.returncode == 0, "trained": trained, "wall": wall,
            "errors": errors,
            "train": (nodes.get(f"load_model_{model}") or {}).get("execution_time"),
            "score": (nodes.get(f"load_scores_{model}") or {}).get("execution_time")}


class Backend:
    """One long-lived connection, as a pool keeps it: scores every model's serving version after each cycle."""

    def __init__(self, schema):
        self.schema, self.conn = schema, connect()
        self.pid = self.conn.execute("select pg_backend_pid()").fetchone()[0]

    def score_all(self):
        served = {}
        for n in range(1, MODELS + 1):
            model = f"load_model_{n}"
            exists = self.conn.execute("select dbt_learn.serving_version(%s, %s)", [self.schema, model]).fetchone()[0]
            if exists is not None:
                self.conn.execute("select dbt_learn.predict(%s, %s, 0.1, 0.2, 0.3, 0.4)", [self.schema, model])
                served[model] = exists
        return served

    def memory(self):
        """VmRSS, and its parts: RssAnon (the backend's own memory) and RssShmem (shared buffers it has touched)."""
        fields = {}
        for line in pathlib.Path("/proc", str(self.pid), "status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssShmem"):
                fields[name] = int(value.split()[0]) * 1024
        return fields

    def close(self):
        self.conn.close()


def _registry(conn, schema):
    rows = conn.execute("select model_name, version, data_fingerprint, artifact_bytes from dbt_learn.model_versions "
                        "where model_schema = %s", [schema]).fetchall()
    leftovers = conn.execute("select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                             "where n.nspname = %s and (relname like %s or relname like %s)",
                             [schema, "%\\_\\_dbt\\_tmp%", "%\\_\\_dbt\\_backup%"]).fetchall()
    scored = {}
    for n in range(1, MODELS + 1):
        table = sql.Identifier(schema, f"load_scores_{n}")
        if conn.execute("select to_regclass(%s) is not null", [f'"{schema}"."load_scores_{n}"']).fetchone()[0]:
            scored[f"load_model_{n}"] = conn.execute(
                sql.SQL("select min(model_version), max(model_version) from {}").format(table)).fetchone()
    return rows, [r[0] for r in leftovers], scored


def checks(results):
    """(check, figure, met) from the registry and the runs."""
    rows, trained = results["registry"], results["trained_states"]
    out = []
    for model in sorted(set(trained) | {r[0] for r in rows}):
        versions = [r for r in rows if r[0] == model]
        out.append((f"{model}: versions = data states an ml_train run succeeded on",
                    f"{len(versions)} versions, {len(trained.get(model, []))} states", len(versions) ==
                    len(trained.get(model, []))))
    keys = [(r[0], r[1]) for r in rows]
    out.append(("(model, version) unique", f"{len(keys)} rows, {len(set(keys))} distinct", len(keys) == len(set(keys))))
    prints = [(r[0], r[2]) for r in rows]
    out.append(("no duplicate data fingerprint per model", f"{len(prints) - len(set(prints))} duplicates",
                len(prints) == len(set(prints))))
    out.append(("no leftover __dbt_tmp / __dbt_backup relations", ", ".join(results["leftovers"]) or "none",
                not results["leftovers"]))
    newest = {r[0]: max(x[1] for x in rows if x[0] == r[0]) for r in rows}
    stale = {m: v for m, v in results["scored"].items() if tuple(v) != (newest.get(m), newest.get(m))}
    out.append(("every scores table written by its model's newest version", json.dumps(stale) if stale else "yes",
                not stale))
    failed = [run for run in results["runs"] if not run["ok"]]
    for phase in ("sequential", "parallel", "same model"):
        runs = [run for run in results["runs"] if run["phase"] == phase]
        if runs:
            bad = [run for run in failed if run["phase"] == phase]
            out.append((f"{phase}: every dbt run succeeded", f"{len(runs) - len(bad)} of {len(runs)}", not bad))
    # The plateau, over the sequential cycles from the third on: by then the first model's 2 cached versions are
    # loaded, and each cycle brings a new one in and must push the oldest out. Judged on RssAnon, the backend's own
    # memory: VmRSS also counts every page of shared_buffers the backend has touched (RssShmem), which grows as it
    # reads each new version's artifact through the buffer cache, up to shared_buffers, and is not the backend's.
    rss = [c["anon"] for c in results["cycles"] if c["cycle"].startswith("sequential")][2:]
    if len(rss) >= 2:
        growth = max(rss) - rss[0]
        size = max((r[3] for r in rows if r[0] == "load_model_1"), default=0)
        out.append((f"backend memory plateaus: RssAnon growth from the 3rd to the last sequential cycle "
                    f"< {PLATEAU_BYTES / 2**20:.0f} MiB", f"{growth / 2**20:+.1f} MiB over {len(rss) - 1} cycles, "
                    f"{(rss[-1] - rss[0]) / (len(rss) - 1) / 2**20:+.1f} MiB a cycle "
                    f"({rss[0] / 2**20:.1f} → {rss[-1] / 2**20:.1f} MiB; one version's artifact is "
                    f"{size / 2**20:.1f} MiB)", growth < PLATEAU_BYTES))
    return out


def run(sequential, parallel, same_model, schema):
    results = {"schema": schema, "runs": [], "cycles": [], "trained_states": {}}
    states = {n: 0 for n in range(1, MODELS + 1)}

    def record(run, phase, state):
        run["phase"] = phase
        results["runs"].append(run)
        if run["trained"]:  # the ml_train node succeeded (its scores may still have failed)
            results["trained_states"].setdefault(f"load_model_{run['model']}", []).append(state)
        print(f"  {phase} {run['tag']}: model {run['model']} {'ok' if run['ok'] else 'FAILED'} "
              f"{run['wall']:.1f} s {'; '.join(run['errors'])[:300]}", flush=True)

    def cycle(label, started):
        served = backend.score_all()
        memory = backend.memory()
        results["cycles"].append({"cycle": label, "rss": memory.get("VmRSS"), "anon": memory.get("RssAnon"),
                                  "shmem": memory.get("RssShmem"), "served": served,
                                  "seconds": time.perf_counter() - started})
        print(f"  after {label}: backend VmRSS {memory['VmRSS'] / 2**20:.1f} MiB (RssAnon "
              f"{memory['RssAnon'] / 2**20:.1f}, RssShmem {memory['RssShmem'] / 2**20:.1f}), serving {served}",
              flush=True)

    with tempfile.TemporaryDirectory() as scratch, connect() as conn:
        project = _project(scratch)
        create_data(conn, schema)
        backend = Backend(schema)
        try:
            for i in range(1, sequential + 1):
                started = time.perf_counter()
                states[1] += 1
                change_data(conn, schema, 1, states[1])
                record(dbt_run(project, schema, 1, f"seq{i}"), "sequential", states[1])
                cycle(f"sequential {i}", started)
            if parallel:
                started = time.perf_counter()
                models = [n % MODELS + 1 for n in range(parallel)]
                for n in models:
                    states[n] += 1
                    change_data(conn, schema, n, states[n])
                with concurrent.futures.ThreadPoolExecutor(parallel) as pool:
                    runs = list(pool.map(lambda n: dbt_run(project, schema, n, f"par{n}"), models))
                for run in runs:
                    record(run, "parallel", states[run["model"]])
                results["parallel_seconds"] = time.perf_counter() - started
                cycle("parallel", started)
            if same_model:
                started = time.perf_counter()
                states[1] += 1
                change_data(conn, schema, 1, states[1])
                with concurrent.futures.ThreadPoolExecutor(4) as pool:
                    runs = list(pool.map(lambda i: dbt_run(project, schema, 1, f"same{i}"), range(4)))
                for run in runs:
                    record(run, "same model", states[1])
                results["same_model_seconds"] = time.perf_counter() - started
                cycle("same model", started)
        finally:
            backend.close()
        results["trained_states"] = {m: sorted(set(s)) for m, s in results["trained_states"].items()}
        rows, results["leftovers"], results["scored"] = _registry(conn, schema)
        results["registry"] = [list(r) for r in rows]
    return results


def markdown(results, found):
    lines = ["# Load: train-and-score cycles (issue 13, Deliver 6)", "",
             f"Schema `{results['schema']}`; 4 random_forest_regressor models (20 trees, {ROWS:,} rows x 4), "
             "retrain_policy on_change; a cycle changes one row of the training data, then `dbt run`s the model and "
             "its scores. After each cycle one long-lived backend (a connection kept open, as a pool does) calls "
             "dbt_learn.predict() on every model's serving version; its memory is read from /proc (VmRSS = RssAnon, "
             "the backend's own, + RssShmem, the shared buffers it has touched, + RssFile).", "",
             "| cycle | phase | dbt runs | wall | train node | score node | backend VmRSS | RssAnon | RssShmem |",
             "|---|---|---|---|---|---|---|---|---|"]
    for cycle in results["cycles"]:
        phase = cycle["cycle"].rsplit(" ", 1)[0] if cycle["cycle"].startswith("sequential") else cycle["cycle"]
        tag = {"sequential": "seq" + cycle["cycle"].rsplit(" ", 1)[-1], "parallel": "par", "same model": "same"}[phase]
        runs = [r for r in results["runs"] if r["tag"].startswith(tag) and (phase != "sequential" or r["tag"] == tag)]
        train = max((r["train"] or 0) for r in runs)
        score = max((r["score"] or 0) for r in runs)
        lines.append(f"| {cycle['cycle']} | {phase} | {sum(r['ok'] for r in runs)} ok of {len(runs)} | "
                     f"{cycle['seconds']:.1f} s | {train:.2f} s | {score:.2f} s | {cycle['rss'] / 2**20:.1f} MiB | "
                     f"{cycle['anon'] / 2**20:.1f} MiB | {cycle['shmem'] / 2**20:.1f} MiB |")
    errors = [f"- {r['tag']} (model {r['model']}): {e}" for r in results["runs"] for e in r["errors"]]
    if errors:
        lines += ["", "## Failed runs", "", *[e.replace("\n", " ")[:400] for e in errors]]
    lines += ["", "## Checks", "", "| check | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {figure} | {'met' if met else 'not met'} |" for name, figure, met in found]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks load", description=__doc__)
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--parallel", type=int, default=4, help="concurrent cycles, each on a model of its own")
    parser.add_argument("--no-same-model", action="store_true", help="skip 4 concurrent runs of the same model")
    parser.add_argument("--keep", action="store_true", help="keep the scratch schema (default: dropped at the end)")
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS / "load.md")
    parser.add_argument("--quick", action="store_true", help="3 sequential cycles, 2 parallel, no same-model phase")
    args = parser.parse_args(argv)
    if args.quick:
        args.sequential, args.parallel, args.no_same_model = 3, 2, True
    schema = f"dbt_learn_bench_load_{uuid.uuid4().hex[:8]}"
    try:
        results = run(args.sequential, min(args.parallel, MODELS), not args.no_same_model, schema)
    finally:
        if not args.keep:
            with connect() as conn:
                for name in (schema, schema + "_dbt_learn_registry"):
                    conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(name)))
    found = checks(results)
    results["checks"] = [{"check": n, "measured": f, "met": m} for n, f, m in found]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(results, found))
    args.out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str))
    print(args.out.read_text())


if __name__ == "__main__":
    main()
