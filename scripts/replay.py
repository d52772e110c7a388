"""Replay the demo's screening stream day by day: one `dbt build` of the monitored model per day, with the run's
"now" (var dbt_learn_as_of) at the end of that day, as a scheduler would have run it. Prints, per day, each
monitoring test's status and the windows or features its failing rows name.

    .venv/bin/python scripts/replay.py [--days 10] [--severity warn|error] [--project-dir demo]

Used by `make demo` and by the test suite (tests/integration/test_replay.py)."""

import argparse
import datetime as dt
import json
import os
import pathlib
import sys

import psycopg
from dbt.cli.main import dbtRunner
from psycopg import sql

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
import demo_seeds  # noqa: E402

MONITORS = {  # test name prefix -> the column of its failing rows that says where it fired
    "dbt_learn_ml_trailing_metric_threshold": "window_end",
    "dbt_learn_ml_label_coverage": "window_end",
    "dbt_learn_ml_drift_threshold": "bucket_start",
}


def day_end(day):
    return demo_seeds.STREAM_START.to_pydatetime() + dt.timedelta(days=day)


def _connect():
    return psycopg.connect(host=os.environ["DBT_LEARN_HOST"], port=os.environ["DBT_LEARN_PORT"],
                           dbname=os.environ["DBT_LEARN_DATABASE"], user=os.environ["DBT_LEARN_USER"],
                           password=os.environ["DBT_LEARN_PASSWORD"], autocommit=True)


def _where_fired(conn, relation, column):
    """What the stored failing rows of a test name, worst first: its windows or buckets, features, values."""
    schema, table = relation
    with conn.cursor() as cursor:
        cursor.execute(sql.SQL("select * from {}").format(sql.Identifier(schema, table)))
        names = [d.name for d in cursor.description]
        rows = [dict(zip(names, r)) for r in cursor.fetchall()]
    key = next((k for k in ("value", "metric_value") if rows and k in rows[0]), None)  # drift / performance tests
    value_of = (lambda row: row[key]) if key else (lambda row: None)
    rows.sort(key=lambda row: -abs(value_of(row) or 0))
    parts = []
    for row in rows[:3]:
        what = row.get("feature") or row.get("window_size") or row.get("window") or ""
        if isinstance(what, dt.timedelta):
            what = f"{what.days} day" if what == dt.timedelta(days=what.days) else str(what)
        value = value_of(row)
        parts.append(f"{row.get(column):%Y-%m-%d %H:%M} {what}" + ("" if value is None else f" = {value:.3f}"))
    more = f" (+{len(rows) - 3} more)" if len(rows) > 3 else ""
    return "; ".join(parts) + more


def replay(project_dir, days, severity="warn", dbt=None, echo=print, build_parents=True):
    """Run the days; returns [{day, as_of, tests: {test name: status}, fired: {test name: text}}].

    The models upstream of the monitoring (seeds, training view, classifier) are built once, first; day 1 rebuilds
    the monitoring models from scratch (--full-refresh: the prediction log keeps its rows, full_refresh=false), so
    a replay can be run again over an earlier one."""
    invoke = dbt or (lambda args: dbtRunner().invoke(args))
    common = ["--project-dir", str(project_dir)]
    if build_parents:
        result = invoke(["build", *common, "--select", "+tag:monitoring", "--exclude", "tag:monitoring",
                         "--indirect-selection", "cautious", "--quiet"])
        if not result.success:
            failed = [f"{r.node.name}: {r.message}" for r in getattr(result.result, "results", None) or []
                      if str(r.status) in ("error", "fail")]
            raise RuntimeError(f"replay: building the monitored model failed: {result.exception or failed}")
    history = []
    with _connect() as conn:
        for day in range(1, days + 1):
            as_of = day_end(day)
            variables = {"dbt_learn_as_of": as_of.isoformat(), "dbt_learn_demo_monitoring_severity": severity}
            args = ["build", *common, "--vars", json.dumps(variables), "--select", "tag:monitoring",
                    "--store-failures", "--quiet"] + (["--full-refresh"] if day == 1 else [])
            result = invoke(args)
            if result.exception is not None:
                raise RuntimeError(f"replay day {day}: dbt build raised {result.exception}")
            tests, fired = {}, {}
            for r in result.result.results:
                if r.node.resource_type != "test":
                    continue
                prefix = next((p for p in MONITORS if r.node.name.startswith(p)), None)
                if prefix is None:
                    continue
                name = r.node.name
                tests[name] = str(r.status)
                if str(r.status) in ("fail", "warn"):
                    stored = r.node.relation_name  # --store-failures keeps the failing rows there
                    fired[name] = _where_fired(conn, [p.strip('"') for p in stored.split(".")[-2:]],
                                               MONITORS[prefix])
                elif str(r.status) == "error":
                    raise RuntimeError(f"replay day {day}: {name} errored: {r.message}")
            failing_models = [r.node.name for r in result.result.results
                              if r.node.resource_type != "test" and str(r.status) == "error"]
            if failing_models:
                raise RuntimeError(f"replay day {day}: models failed: {failing_models}")
            history.append({"day": day, "as_of": as_of, "tests": tests, "fired": fired})
            changed = " (scanner recalibrated)" if day == demo_seeds.CHANGE_DAY else ""
            echo(f"dbt_learn replay: day {day:2d}, as of {as_of:%Y-%m-%d %H:%M}{changed}")
            for name, status in sorted(tests.items()):
                short = name.replace("dbt_learn_", "")[:70]
                echo(f"    {status:5s} {short}" + (f"  <- {fired[name]}" if name in fired else ""))
    return history


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=demo_seeds.DAYS)
    parser.add_argument("--severity", choices=("warn", "error"), default="warn")
    parser.add_argument("--project-dir", type=pathlib.Path, default=REPO / "demo")
    parser.add_argument("--no-parents", action="store_true", help="the monitored model is built already")
    args = parser.parse_args(argv)
    replay(args.project_dir, args.days, args.severity, build_parents=not args.no_parents)


if __name__ == "__main__":
    main()
