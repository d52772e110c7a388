"""Write the model report: per trained model and version an HTML page with PNG plots, and an index.

    python -m dbt_learn.report [--schema S | --all-schemas] [--model M ...] [--manifest demo/target/manifest.json]
                               [--out demo/target/dbt_learn_report] [--screenshot]

Connects as the dbt role: --dsn, else DBT_LEARN_HOST/PORT/DATABASE/USER/PASSWORD (scripts/with-env.sh sets them),
else libpq's PG* variables. Reads the registry (stored aggregates, never training rows) and, for models that dbt
monitoring models (ml_trailing_performance, ml_feature_drift, ml_prediction_drift) watch in the manifest, their
tables."""

import argparse
import os
import pathlib

_ENV = {"host": "DBT_LEARN_HOST", "port": "DBT_LEARN_PORT", "dbname": "DBT_LEARN_DATABASE",
        "user": "DBT_LEARN_USER", "password": "DBT_LEARN_PASSWORD"}


def connect(dsn=None):
    import psycopg

    settings = {} if dsn else {key: os.environ[name] for key, name in _ENV.items() if os.environ.get(name)}
    return psycopg.connect(dsn or "", autocommit=True, **settings)


def write_report(conn, out, *, schema=None, models=None, manifest=None, window="1 day"):
    """Write every page and the index under ``out``; returns {"index": path, "pages": {(schema, name, version):
    path}} (absolute paths)."""
    from . import _monitoring, _pages, _registry

    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    found = _registry.versions(conn, schema, models)
    watched = _monitoring.monitors(manifest)
    pages = {}
    for key, versions in found.items():
        monitoring = _monitoring.load(conn, watched[key], window) if key in watched else None
        for version, path in zip(versions, _pages.write_model(out, versions, monitoring, window)):
            pages[(*key, version["version"])] = out / path
    return {"index": out / _pages.write_index(out, found), "pages": pages}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m dbt_learn.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="libpq connection string (default: the DBT_LEARN_* / PG* variables)")
    parser.add_argument("--schema", default=os.environ.get("DBT_LEARN_SCHEMA"),
                        help="only the models of this schema (default: $DBT_LEARN_SCHEMA; see --all-schemas)")
    parser.add_argument("--all-schemas", action="store_true", help="every schema's models the role can read")
    parser.add_argument("--model", action="append", help="only this model (repeat for several)")
    parser.add_argument("--manifest", type=pathlib.Path, default=pathlib.Path("demo/target/manifest.json"),
                        help="the dbt manifest that tells which models monitor which (absent: no monitoring plots)")
    parser.add_argument("--window", default="1 day", help="the trailing window to plot (default: 1 day, else the "
                                                          "shortest the table has)")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("demo/target/dbt_learn_report"))
    parser.add_argument("--screenshot", action="store_true",
                        help="also render the newest version's page of the first model in headless Chromium to "
                             "<out>/screenshot.png")
    args = parser.parse_args(argv)
    from . import _monitoring

    with connect(args.dsn) as conn:
        report = write_report(conn, args.out, schema=None if args.all_schemas else args.schema, models=args.model,
                              manifest=_monitoring.load_manifest(args.manifest), window=args.window)
    print(f"dbt_learn report: {len(report['pages'])} version page(s); open {report['index']}")
    if args.screenshot and report["pages"]:
        from ._browser import screenshot

        first = min(report["pages"])
        newest = max(k for k in report["pages"] if k[:2] == first[:2])
        shot = screenshot(report["pages"][newest], args.out / "screenshot.png")
        print(f"dbt_learn report: screenshot of {newest[0]}.{newest[1]} v{newest[2]} in {shot}")


if __name__ == "__main__":
    main()
