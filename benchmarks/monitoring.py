"""Monitoring at scale: a full rebuild of the lead-conversion monitoring models (labels, hourly buckets, trailing
windows) over a prediction log of `rows` rows, against an incremental run after 1 % new rows (a day of leads and
the conversions that arrived meanwhile). Target (issue 9): the incremental run takes at most a tenth of the full one.

    python -m benchmarks.monitoring [--rows 10000000] [--repeats 3]"""

import argparse
import datetime as dt
import json
import os
import pathlib
import statistics
import subprocess
import time

from . import monitoring_data
from .connection import connect

PROJECT = pathlib.Path(__file__).resolve().parent / "dbt_monitoring"
REPO = PROJECT.parent.parent
RESULTS = PROJECT.parent / "results"
MODELS = ("lead_labels", "lead_performance_buckets", "lead_performance")


def _dbt(as_of, full_refresh):
    """One `dbt run` of the monitoring models as of `as_of`; returns (wall seconds, seconds per model)."""
    args = [str(REPO / ".venv" / "bin" / "dbt"), "run", "--project-dir", str(PROJECT), "--select", *MODELS,
            "--vars", json.dumps({"dbt_learn_as_of": as_of.isoformat()}), "--threads", "1",
            "--target-path", str(PROJECT / "target"), "--log-path", str(PROJECT / "logs")]
    if full_refresh:
        args.append("--full-refresh")
    started = time.perf_counter()
    completed = subprocess.run(args, env={**os.environ, "DBT_LEARN_SCHEMA": f"{monitoring_data.SCHEMA}_dbt"},
                               capture_output=True, text=True)
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"dbt run of the monitoring benchmark failed:\n{completed.stdout[-4000:]}")
    results = json.loads((PROJECT / "target" / "run_results.json").read_text())["results"]
    return wall, {r["unique_id"].rsplit(".", 1)[-1]: r["execution_time"] for r in results}


def _counts(conn):
    schema = f"{monitoring_data.SCHEMA}_dbt"
    return {name: conn.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] for name in MODELS}


def run(rows, repeats=1, days=100):
    """Per repeat: build the log, full rebuild, append 1 %, incremental run, and (for the check) a full rebuild of the
    same state, whose buckets must equal the incremental ones. Returns the figures."""
    figures = []
    with connect() as conn:
        for repeat in range(repeats):
            state = monitoring_data.create(conn, rows, days)
            log_rows = conn.execute(f"select count(*) from {monitoring_data.SCHEMA}.prediction_log").fetchone()[0]
            as_of = monitoring_data.last_created_at(conn) + dt.timedelta(hours=1)
            full_wall, full_nodes = _dbt(as_of, full_refresh=True)
            state = monitoring_data.append(conn, state)
            new_rows = conn.execute(f"select count(*) from {monitoring_data.SCHEMA}.prediction_log").fetchone()[0] \
                - log_rows
            as_of = monitoring_data.last_created_at(conn) + dt.timedelta(hours=1)
            inc_wall, inc_nodes = _dbt(as_of, full_refresh=False)
            incremental = _bucket_snapshot(conn)
            check_wall, check_nodes = _dbt(as_of, full_refresh=True)
            equal = incremental == _bucket_snapshot(conn)
            figures.append({"days": days, "log_rows": log_rows, "new_rows": new_rows, "full": sum(full_nodes.values()),
                            "full_wall": full_wall, "full_nodes": full_nodes, "incremental": sum(inc_nodes.values()),
                            "incremental_wall": inc_wall, "incremental_nodes": inc_nodes,
                            "full_after_append": sum(check_nodes.values()), "incremental_equals_full": equal,
                            "counts": _counts(conn)})
            print(f"  monitoring repeat {repeat + 1}: full {figures[-1]['full']:.1f} s, incremental "
                  f"{figures[-1]['incremental']:.1f} s, equal to a rebuild: {equal}", flush=True)
    return figures


def _bucket_snapshot(conn):
    schema = f"{monitoring_data.SCHEMA}_dbt"
    return conn.execute(
        f'select bucket_start, source, n_predictions, n_labelled, tp, fp, fn, tn, round(sum_log_loss::numeric, 6) '
        f'from "{schema}".lead_performance_buckets order by 1, 2').fetchall()


def markdown(figures):
    full = statistics.median(f["full"] for f in figures)
    incremental = statistics.median(f["incremental"] for f in figures)
    ratio = incremental / full
    first = figures[0]
    lines = [
        "# Monitoring benchmark", "",
        f"A prediction log of {first['log_rows']:,} rows (lead-conversion: {first['days']} days of leads, "
        f"1 % duplicate events, conversions 0-36 h late), then {first['new_rows']:,} new rows (the leads that arrive "
        f"next). Models: incremental labels "
        "(maturity 2 days, recompute 3 days), incremental hourly buckets by source, incremental trailing windows "
        f"(3 hours, 1 day, 7 days). dbt node times, median of {len(figures)} run(s), 2 cores.", "",
        "| run | seconds | per model |", "|---|---|---|",
        f"| full rebuild (`--full-refresh`) | {full:.1f} | "
        + ", ".join(f"{k} {v:.1f}" for k, v in first["full_nodes"].items()) + " |",
        f"| incremental, after 1 % new rows | {incremental:.1f} | "
        + ", ".join(f"{k} {v:.1f}" for k, v in first["incremental_nodes"].items()) + " |", "",
        f"Incremental / full: **{ratio:.3f}** (target ≤ 0.1: {'met' if ratio <= 0.1 else 'not met'}). "
        f"The incremental buckets equal a full rebuild of the same state: "
        f"{all(f['incremental_equals_full'] for f in figures)}.", "",
    ]
    return "\n".join(lines)


def write(figures, out):
    """monitoring.md and monitoring.json in `out`; returns the markdown."""
    text = markdown(figures)
    out.mkdir(parents=True, exist_ok=True)
    (out / "monitoring.md").write_text(text)
    (out / "monitoring.json").write_text(json.dumps(figures, indent=1, default=str))
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.monitoring", description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    args = parser.parse_args(argv)
    print(write(run(args.rows, args.repeats), args.out))


if __name__ == "__main__":
    main()
