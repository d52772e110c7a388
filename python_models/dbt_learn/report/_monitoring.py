"""Monitoring of a trained model: which dbt models monitor it (from a dbt manifest), their tables, and the plot of
trailing performance (realised next to the label-free estimate), label coverage and drift per window."""

import json
from collections import deque

import numpy as np
from psycopg import sql

from ._registry import rows

BANDS = (0.1, 0.25)  # PSI: stable below 0.1, significant from 0.25
MONITOR_MACROS = {"macro.dbt_learn.ml_trailing_performance": "performance",
                  "macro.dbt_learn.ml_feature_drift": "feature_drift",
                  "macro.dbt_learn.ml_prediction_drift": "prediction_drift"}
# Trailing metrics drawn when the performance table has them (classification, then regression).
METRIC_STYLES = (("accuracy", "accuracy (labels matured)", "tab:blue", "-", 2),
                 ("expected_accuracy", "expected accuracy (label-free, from probabilities)", "tab:orange", "--", 1),
                 ("roc_auc", "ROC AUC", "tab:green", "-", 1),
                 ("r2", "r2", "tab:blue", "-", 2), ("mae", "mae", "tab:orange", "-", 1),
                 ("rmse", "rmse", "tab:green", "-", 1))


def load_manifest(path):
    """A dbt manifest as a dict, or None when there is none at ``path``."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None


def monitors(manifest):
    """{(schema, trained model name): {"performance"|"feature_drift"|"prediction_drift": (schema, relation)}}.

    A monitoring model monitors the nearest ml_train models upstream of it (its depends_on.nodes, followed until one
    is found on each path): the trailing performance reads buckets built from the scores, not the model itself."""
    nodes = (manifest or {}).get("nodes", {})
    found = {}
    for node in nodes.values():
        kinds = [MONITOR_MACROS[m] for m in node.get("depends_on", {}).get("macros", []) if m in MONITOR_MACROS]
        if not kinds:
            continue
        for trained in _nearest_trained(nodes, node):
            entry = found.setdefault((trained["schema"], trained["name"]), {})
            for kind in kinds:
                entry.setdefault(kind, (node["schema"], node.get("alias") or node["name"]))
    return found


def _nearest_trained(nodes, start):
    queue, seen, trained = deque(start.get("depends_on", {}).get("nodes", [])), set(), []
    while queue:
        unique_id = queue.popleft()
        node = nodes.get(unique_id)
        if unique_id in seen or node is None:
            continue
        seen.add(unique_id)
        if node.get("config", {}).get("materialized") == "ml_train":
            trained.append(node)
        else:
            queue.extend(node.get("depends_on", {}).get("nodes", []))
    return trained


def _exists(conn, schema, name):
    found = rows(conn, "select to_regclass(format('%%I.%%I', %s::text, %s::text)) is not null as ok", (schema, name))
    return found[0]["ok"]


def pick_window(conn, relation, wanted):
    """The trailing window to draw: ``wanted`` when the table has it, else its shortest."""
    windows = [r["w"] for r in rows(conn, sql.SQL("select distinct window_size::text as w, window_size from {} "
                                                  "order by window_size").format(sql.Identifier(*relation)))]
    return wanted if wanted in windows or not windows else windows[0]


def load(conn, relations, window="1 day"):
    """The rows the plot needs, each table as rows of dicts (absent tables give none); None without any row."""
    relations = {kind: rel for kind, rel in relations.items() if rel and _exists(conn, *rel)}
    perf = drift = predicted = []
    if "performance" in relations:
        window = pick_window(conn, relations["performance"], window)
        perf = rows(conn, sql.SQL("select * from {} where window_size = %s::interval order by window_end").format(
            sql.Identifier(*relations["performance"])), (window,))
    if "feature_drift" in relations:
        drift = rows(conn, sql.SQL("select bucket_start, feature, psi from {} order by bucket_start, feature").format(
            sql.Identifier(*relations["feature_drift"])))
    if "prediction_drift" in relations:
        predicted = rows(conn, sql.SQL("select bucket_start, feature, psi from {} order by bucket_start").format(
            sql.Identifier(*relations["prediction_drift"])))
    if not (perf or drift or predicted):
        return None
    return {"perf": perf, "drift": drift, "predicted": predicted, "window": window}


def plot(perf, drift, predicted, title, out, min_value=None):
    """One PNG: trailing metrics, rows per window (with how many are labelled), and PSI per drift bucket; returns
    its (width, height) in pixels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Only the panels there is data for: a model may have drift monitoring and no labels, or the reverse.
    ratios = ([3, 1.4] if perf else []) + ([3] if drift or predicted else [])
    fig, axes = plt.subplots(len(ratios), 1, figsize=(11, 10 * sum(ratios) / 7.4), sharex=True, squeeze=False,
                             gridspec_kw={"height_ratios": ratios})
    axes = list(axes[:, 0])
    top, middle = (axes[0], axes[1]) if perf else (None, None)
    bottom = axes[-1] if drift or predicted else None
    if perf:
        _performance_panels(top, middle, perf, title, min_value)
    else:
        axes[0].set_title(title)
    if bottom is not None:
        _drift_panel(bottom, drift, predicted)
    fig.autofmt_xdate()
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return round(fig.get_figwidth() * 110), round(fig.get_figheight() * 110)


def _performance_panels(top, middle, perf, title, min_value):
    times = [r["window_end"] for r in perf]

    def series(key):
        return [np.nan if r.get(key) is None else float(r[key]) for r in perf]

    drawn = [key for key, *_ in METRIC_STYLES if any(r.get(key) is not None for r in perf)]
    for key, label, color, style, width in METRIC_STYLES:
        if key in drawn:
            top.plot(times, series(key), label=label, color=color, ls=style, lw=width)
    if min_value is not None:
        top.axhline(min_value, color="tab:red", lw=1, ls=":", label=f"test threshold {min_value}")
    top.set_ylabel("trailing metric")
    if drawn and set(drawn) <= {"accuracy", "expected_accuracy", "roc_auc"}:
        top.set_ylim(0, 1.02)
    if drawn or min_value is not None:
        top.legend(loc="lower left", fontsize=8)
    top.set_title(title)

    if perf and "n_predictions" in perf[0]:
        middle.bar(times, series("n_predictions"), width=0.03, color="lightgray", label="predictions in window")
        middle.bar(times, series("n_labelled"), width=0.03, color="tab:blue", label="labelled (matured)")
        middle.legend(loc="upper left", fontsize=8)
    middle.set_ylabel("rows")


def _drift_panel(bottom, drift, predicted):
    features = sorted({r["feature"] for r in drift})
    starts = sorted({r["bucket_start"] for r in drift} | {r["bucket_start"] for r in predicted})
    # Each bucket is drawn at its middle, so it lines up with the windows that end after it.
    half = min((b - a for a, b in zip(starts, starts[1:])), default=None)
    shift = (lambda t: t + half / 2) if half else (lambda t: t)
    buckets = [shift(t) for t in starts]
    by_feature = {f: {shift(r["bucket_start"]): r["psi"] for r in drift if r["feature"] == f} for f in features}
    for feature in features:
        bottom.plot(buckets, [by_feature[feature].get(b, np.nan) for b in buckets], color="tab:gray", lw=0.6,
                    alpha=0.6)
    if features:
        bottom.plot([], [], color="tab:gray", lw=0.6, label=f"PSI of each of {len(features)} features")
        worst = [max((by_feature[f].get(b) or 0) for f in features) for b in buckets]
        bottom.plot(buckets, worst, color="black", lw=1.5, marker="o", ms=3, label="largest feature PSI")
    if predicted:
        bottom.plot([shift(r["bucket_start"]) for r in predicted], [r["psi"] for r in predicted], color="tab:purple",
                    lw=2, marker="s", ms=3, label="PSI of the predicted output")
    for value, name in zip(BANDS, ("moderate", "significant")):
        bottom.axhline(value, color="tab:red", lw=1, ls=":")
        if buckets:
            bottom.text(buckets[0], value, f" {name} ({value})", color="tab:red", fontsize=7, va="bottom")
    bottom.set_yscale("symlog", linthresh=0.1)
    bottom.set_ylim(bottom=0)
    bottom.set_ylabel("population stability index")
    if features or predicted:
        bottom.legend(loc="upper left", fontsize=8)
