"""Plot a monitored model: trailing performance (realised next to the label-free estimate), label coverage, and
drift per window, from the monitoring models dbt built. One PNG; reads the tables as the dbt role.

    .venv/bin/python scripts/monitoring_plot.py --schema dbt_learn_dev --model breast_cancer --out monitoring.png

By default the relations are <model>_performance, <model>_feature_drift and <model>_prediction_drift."""

import argparse
import os
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

BANDS = (0.1, 0.25)  # PSI: stable below 0.1, significant from 0.25


def _connect():
    return psycopg.connect(host=os.environ["DBT_LEARN_HOST"], port=os.environ["DBT_LEARN_PORT"],
                           dbname=os.environ["DBT_LEARN_DATABASE"], user=os.environ["DBT_LEARN_USER"],
                           password=os.environ["DBT_LEARN_PASSWORD"])


def _rows(conn, query, *params):
    with conn.cursor() as cursor:
        cursor.execute(query, params)
        names = [d.name for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def _table(schema, name):
    return sql.Identifier(schema, name)


def load(conn, schema, performance, feature_drift, prediction_drift, window):
    perf = _rows(conn, sql.SQL(
        "select window_end, accuracy, expected_accuracy, roc_auc, label_coverage, n_predictions, n_labelled "
        "from {} where window_size = %s::interval order by window_end").format(_table(schema, performance)), window)
    drift = _rows(conn, sql.SQL("select bucket_start, feature, psi from {} order by bucket_start, feature").format(
        _table(schema, feature_drift)))
    predicted = _rows(conn, sql.SQL("select bucket_start, feature, psi from {} order by bucket_start").format(
        _table(schema, prediction_drift))) if prediction_drift else []
    return perf, drift, predicted


def plot(perf, drift, predicted, title, out, min_value=None):
    fig, (top, middle, bottom) = plt.subplots(3, 1, figsize=(11, 10), sharex=True,
                                              gridspec_kw={"height_ratios": [3, 1.4, 3]})
    times = [r["window_end"] for r in perf]

    def series(key):
        return [np.nan if r[key] is None else float(r[key]) for r in perf]

    top.plot(times, series("accuracy"), label="accuracy (labels matured)", color="tab:blue", lw=2)
    top.plot(times, series("expected_accuracy"), label="expected accuracy (label-free, from probabilities)",
             color="tab:orange", ls="--")
    top.plot(times, series("roc_auc"), label="ROC AUC", color="tab:green", lw=1)
    if min_value is not None:
        top.axhline(min_value, color="tab:red", lw=1, ls=":", label=f"test threshold {min_value}")
    top.set_ylabel("trailing metric")
    top.set_ylim(0, 1.02)
    top.legend(loc="lower left", fontsize=8)
    top.set_title(title)

    middle.bar(times, series("n_predictions"), width=0.03, color="lightgray", label="predictions in window")
    middle.bar(times, series("n_labelled"), width=0.03, color="tab:blue", label="labelled (matured)")
    middle.set_ylabel("rows")
    middle.legend(loc="upper left", fontsize=8)

    features = sorted({r["feature"] for r in drift})
    starts = sorted({r["bucket_start"] for r in drift})
    # Each bucket is drawn at its middle, so it lines up with the windows that end after it.
    half = min((b - a for a, b in zip(starts, starts[1:])), default=None)
    shift = (lambda t: t + half / 2) if half else (lambda t: t)
    for row in drift + predicted:
        row["bucket_start"] = shift(row["bucket_start"])
    buckets = [shift(t) for t in starts]
    by_feature = {f: {r["bucket_start"]: r["psi"] for r in drift if r["feature"] == f} for f in features}
    for feature in features:
        bottom.plot(buckets, [by_feature[feature].get(b, np.nan) for b in buckets], color="tab:gray", lw=0.6,
                    alpha=0.6)
    if features:
        bottom.plot([], [], color="tab:gray", lw=0.6, label=f"PSI of each of {len(features)} features")
        worst = [max((by_feature[f].get(b) or 0) for f in features) for b in buckets]
        bottom.plot(buckets, worst, color="black", lw=1.5, marker="o", ms=3, label="largest feature PSI")
    if predicted:
        bottom.plot([r["bucket_start"] for r in predicted], [r["psi"] for r in predicted], color="tab:purple",
                    lw=2, marker="s", ms=3, label="PSI of the predicted probability")
    for value, name in zip(BANDS, ("moderate", "significant")):
        bottom.axhline(value, color="tab:red", lw=1, ls=":")
        bottom.text(buckets[0] if buckets else 0, value, f" {name} ({value})", color="tab:red", fontsize=7,
                    va="bottom")
    bottom.set_yscale("symlog", linthresh=0.1)
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel("population stability index")
    bottom.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


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
    performance = args.performance or f"{args.model}_performance"
    feature_drift = args.feature_drift or f"{args.model}_feature_drift"
    prediction_drift = args.prediction_drift or f"{args.model}_prediction_drift"
    with _connect() as conn:
        perf, drift, predicted = load(conn, args.schema, performance, feature_drift, prediction_drift, args.window)
    if not perf:
        raise SystemExit(f"monitoring_plot: {args.schema}.{performance} has no rows for window '{args.window}'; "
                         "run the monitoring models first (make demo).")
    plot(perf, drift, predicted, f"{args.model}: trailing {args.window} performance and daily drift", args.out,
         args.min_value)
    print(f"monitoring_plot: wrote {args.out}")


if __name__ == "__main__":
    main()
