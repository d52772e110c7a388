"""The PNGs of a version's page, drawn from the registry's stored aggregates (model_versions.diagnostics,
feature_importances, metrics). Each function writes one file of WIDTH x HEIGHT pixels and returns its title."""

WIDTH, HEIGHT, DPI = 560, 420, 100  # two side by side in a 1200 px window
MAX_IMPORTANCES = 20


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, *plt.subplots(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)


def _save(plt, fig, out):
    fig.tight_layout()
    fig.savefig(out, dpi=DPI)  # no bbox_inches: every image keeps the size the page gives it
    plt.close(fig)


def confusion_matrix(diagnostics, out):
    from sklearn.metrics import ConfusionMatrixDisplay
    import numpy as np

    plt, fig, ax = _figure()
    matrix = np.asarray(diagnostics["confusion_matrix"])
    ConfusionMatrixDisplay(matrix, display_labels=diagnostics["classes"]).plot(ax=ax, colorbar=False,
                                                                              cmap="Blues")
    ax.set_title(f"Confusion matrix ({diagnostics['rows']} holdout rows)")
    _save(plt, fig, out)
    return "Confusion matrix"


def roc(diagnostics, out):
    plt, fig, ax = _figure()
    for curve in diagnostics["roc"]:
        ax.plot(curve["fpr"], curve["tpr"], lw=2, label=f"{curve['class']} (AUC {curve['auc']:.3f})")
    ax.plot([0, 1], [0, 1], color="gray", ls=":", lw=1, label="chance")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve (holdout)",
           xlim=(0, 1), ylim=(0, 1.02))
    ax.legend(loc="lower right", fontsize=8)
    _save(plt, fig, out)
    return "ROC curve"


def precision_recall(diagnostics, out):
    plt, fig, ax = _figure()
    for curve in diagnostics["precision_recall"]:
        ax.step(curve["recall"], curve["precision"], where="post", lw=2,
                label=f"{curve['class']} (AP {curve['average_precision']:.3f})")
    ax.set(xlabel="recall", ylabel="precision", title="Precision-recall curve (holdout)", xlim=(0, 1),
           ylim=(0, 1.02))
    ax.legend(loc="lower left", fontsize=8)
    _save(plt, fig, out)
    return "Precision-recall curve"


def calibration(diagnostics, out):
    plt, fig, ax = _figure()
    for curve in diagnostics["calibration"]:
        ax.plot(curve["mean_predicted"], curve["fraction_positive"], marker="o", lw=2, label=str(curve["class"]))
    ax.plot([0, 1], [0, 1], color="gray", ls=":", lw=1, label="perfectly calibrated")
    ax.set(xlabel="mean predicted probability", ylabel="fraction of positives", xlim=(0, 1), ylim=(0, 1.02),
           title="Calibration (holdout, 10 bins)")
    ax.legend(loc="upper left", fontsize=8)
    _save(plt, fig, out)
    return "Calibration"


def predicted_vs_actual(diagnostics, out):
    plt, fig, ax = _figure()
    actual, predicted = diagnostics["actual"], diagnostics["predicted"]
    pairs = [(a, p) for a, p in zip(actual, predicted) if a is not None and p is not None]
    ax.scatter([a for a, _ in pairs], [p for _, p in pairs], s=12, alpha=0.6)
    if pairs:
        low = min(min(a, p) for a, p in pairs)
        high = max(max(a, p) for a, p in pairs)
        ax.plot([low, high], [low, high], color="gray", ls=":", lw=1, label="predicted = actual")
        ax.legend(loc="upper left", fontsize=8)
    ax.set(xlabel="actual", ylabel="predicted",
           title=f"Predicted vs actual ({len(pairs)} of {diagnostics['rows']} holdout rows)")
    _save(plt, fig, out)
    return "Predicted vs actual"


def residuals(diagnostics, out):
    plt, fig, ax = _figure()
    histogram = diagnostics["residual_histogram"]
    edges, counts = histogram["edges"], histogram["counts"]
    if counts:
        ax.stairs(counts, edges, fill=True, alpha=0.7)
    ax.axvline(0, color="gray", ls=":", lw=1)
    ax.set(xlabel="residual (actual - predicted)", ylabel="holdout rows", title="Residuals (holdout)")
    _save(plt, fig, out)
    return "Residuals"


def importances(feature_importances, out):
    plt, fig, ax = _figure()
    entries = feature_importances.get("columns") or feature_importances.get("features") or []
    name = "column" if feature_importances.get("columns") else "feature"
    top = sorted(entries, key=lambda e: abs(e["importance"] or 0), reverse=True)[:MAX_IMPORTANCES][::-1]
    ax.barh([str(e[name]) for e in top], [e["importance"] or 0 for e in top], color="tab:blue")
    ax.tick_params(axis="y", labelsize=7)
    shown = f"top {len(top)} of {len(entries)}" if len(entries) > len(top) else f"{len(top)}"
    ax.set(xlabel=f"importance ({feature_importances.get('method', 'unknown method')})",
           title=f"Feature importances ({shown} {name}s)")
    _save(plt, fig, out)
    return "Feature importances"


def history(versions, metric, out, current=None):
    """The headline metric of every version, the page's own version (``current``) marked."""
    plt, fig, ax = _figure()
    points = [(v["version"], (v["metrics"] or {}).get(metric)) for v in versions]
    known = [(n, value) for n, value in points if value is not None]
    ax.plot([n for n, _ in known], [value for _, value in known], marker="o", lw=2)
    for n, value in known:
        if n == current:
            ax.plot([n], [value], marker="o", ms=12, mfc="none", mec="tab:red", mew=2, label=f"version {n}")
    serving = [v["version"] for v in versions if v.get("serving")]
    for n in serving:
        ax.axvline(n, color="tab:green", ls=":", lw=1, label=f"serving: version {n}")
    ax.set_xticks([n for n, _ in points])
    ax.set(xlabel="version", ylabel=f"{metric} (holdout)", title=f"Headline metric over versions: {metric}")
    if current is not None or serving:
        ax.legend(loc="best", fontsize=8)
    _save(plt, fig, out)
    return f"History of {metric}"
