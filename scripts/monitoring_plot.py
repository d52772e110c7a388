"""Plot a monitored model: trailing performance (realised next to the label-free estimate), label coverage, and
drift per window, from the monitoring models dbt built. One PNG; reads the tables as the dbt role. The plot itself
lives in dbt_learn.report (the model report draws it on each model's pages); this is its one-PNG front end.

    .venv/bin/python scripts/monitoring_plot.py --schema dbt_learn_dev --model breast_cancer --out monitoring.png

By default the relations are <model>_performance, <model>_feature_drift and <model>_prediction_drift."""

import argparse
import os
import pathlib

from dbt_learn.report import _monitoring
from dbt_learn.report.__main__ import connect


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schema", default=os.environ.get("DBT_LEARN_SCHEMA", "dbt_learn_dev"))
    parser.add_argument("--model", default="breast_cancer", help="prefix of the monitoring relations")
    parser.add_argument("--performance")
    parser.add_argument("--feature-drift")
    parser.add_argument("--prediction-drift")
    parser.add_argument("--window", default="1 day", help="the trailing window to plot")
    parser.add_argument("--min-value", type=float, default=None, help="draw the accuracy test's threshold")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("monitoring.png"))
    args = parser.parse_args(argv)
    relations = {kind: (args.schema, getattr(args, kind) or f"{args.model}_{kind}")
                 for kind in ("performance", "feature_drift", "prediction_drift")}
    with connect() as conn:
        loaded = _monitoring.load(conn, relations, args.window)
    if not loaded or not loaded["perf"]:
        raise SystemExit(f"monitoring_plot: {args.schema}.{relations['performance'][1]} has no rows for window "
                         f"'{args.window}'; run the monitoring models first (make demo).")
    _monitoring.plot(loaded["perf"], loaded["drift"], loaded["predicted"],
                     f"{args.model}: trailing {loaded['window']} performance and daily drift", args.out, args.min_value)
    print(f"monitoring_plot: wrote {args.out}")


if __name__ == "__main__":
    main()
