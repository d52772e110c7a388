"""What the model report plots, computed in the database at training time from the holdout and stored with the
version (model_versions.diagnostics), so the report reads aggregates and never the rows.

Classification: the confusion matrix, and with probabilities the ROC and precision-recall curves and the calibration
bins (one entry for the positive class of a binary classifier, one per class, one-vs-rest, otherwise). Regression: a
sample of (actual, predicted) pairs and the histogram of the residuals. Curves are thinned to MAX_CURVE_POINTS and the
sample holds at most MAX_SAMPLE_POINTS, so a version's row stays a few kilobytes whatever the holdout's size; every
number is finite or null (JSON has no NaN).
"""

import numpy as np

from .registry import json_safe

FORMAT = 1
MAX_CURVE_POINTS = 200
MAX_SAMPLE_POINTS = 500
MAX_CLASS_CURVES = 20  # one-vs-rest curves beyond this many classes would be unreadable anyway
CALIBRATION_BINS = 10
RESIDUAL_BINS = 30


def for_fit(task, result, X, y, *, class_names=None, threshold=None, random_state=None):
    """Diagnostics of a training Fit: its evaluated estimator (fitted without the holdout) on the holdout rows, the
    same rows, sampled the same way, as the served version's importances. None without a holdout or a target."""
    holdout = result.holdout_index
    if holdout is None or y is None or task not in ("classification", "regression"):
        return None
    from .evaluation import take
    from .training import importance_rows

    if result.importance_rows is not None:  # taken before a final fit that consumed X
        X_rows, y_rows = result.importance_rows
    else:
        rows = importance_rows(len(X), holdout, random_state)
        X_rows, y_rows = take(X, rows), np.asarray(y)[rows]
    return compute(task, result.evaluated, X_rows, y_rows, class_names=class_names, threshold=threshold)


def compute(task, estimator, X, y, *, class_names=None, threshold=None, outputs=None):
    """The diagnostics of ``estimator`` on holdout rows ``X``, ``y`` (``outputs``: its model_outputs on X when the
    caller has them). ``class_names`` turns class indexes (how SQL models fit) into the registry's labels."""
    if X is None or y is None or len(y) == 0:
        return None
    if outputs is None:
        from .evaluation import model_outputs

        outputs = model_outputs(task, estimator, X, threshold)
    if "predicted" not in outputs:
        return None
    y = np.asarray(y)
    if task == "classification":
        body = _classification(estimator, y, outputs, class_names)
    elif task == "regression":
        body = _regression(y, np.asarray(outputs["predicted"], dtype=np.float64))
    else:
        return None
    return json_safe({"format": FORMAT, "source": "holdout", "rows": int(len(y)), **body})


def _classification(estimator, y, outputs, class_names):
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import (auc, average_precision_score, confusion_matrix, precision_recall_curve,
                                 roc_curve)

    classes = np.asarray(estimator.classes_)
    names = [class_names[int(c)] if class_names is not None else str(c) for c in classes]
    body = {"task": "classification", "classes": names,
            "confusion_matrix": confusion_matrix(y, outputs["predicted"], labels=classes).tolist()}
    proba = outputs.get("proba")
    if proba is None:
        return body
    # A binary classifier's curves are those of its second class (the one roc_auc scores); more classes: each class
    # against the rest.
    positives = [1] if len(classes) == 2 else list(range(min(len(classes), MAX_CLASS_CURVES)))
    body.update(roc=[], precision_recall=[], calibration=[])
    for index in positives:
        truth = y == classes[index]
        if truth.all() or not truth.any():  # a class absent from (or alone in) the holdout has no curve
            continue
        score = proba[:, index]
        fpr, tpr, _ = roc_curve(truth, score)
        precision, recall, _ = precision_recall_curve(truth, score)
        fraction, mean_predicted = calibration_curve(truth, score, n_bins=CALIBRATION_BINS, strategy="uniform")
        counts = np.histogram(score, bins=np.linspace(0, 1, CALIBRATION_BINS + 1))[0]
        kept = thin(len(fpr))
        body["roc"].append({"class": names[index], "fpr": fpr[kept].tolist(), "tpr": tpr[kept].tolist(),
                            "auc": float(auc(fpr, tpr))})
        kept = thin(len(precision))
        body["precision_recall"].append({"class": names[index], "precision": precision[kept].tolist(),
                                         "recall": recall[kept].tolist(),
                                         "average_precision": float(average_precision_score(truth, score))})
        body["calibration"].append({"class": names[index], "mean_predicted": mean_predicted.tolist(),
                                    "fraction_positive": fraction.tolist(), "bin_counts": counts[counts > 0].tolist()})
    return body


def _regression(y, predicted):
    y = y.astype(np.float64)
    residuals = y - predicted
    finite = residuals[np.isfinite(residuals)]
    counts, edges = np.histogram(finite, bins=RESIDUAL_BINS) if finite.size else (np.array([]), np.array([]))
    sample = sample_positions(len(y))
    return {"task": "regression", "actual": y[sample].tolist(), "predicted": predicted[sample].tolist(),
            "residual_histogram": {"edges": edges.tolist(), "counts": counts.tolist()}}


def thin(n_points, limit=MAX_CURVE_POINTS):
    """Indexes of at most ``limit`` evenly spaced points of a curve, its first and last always among them."""
    if n_points <= limit:
        return np.arange(n_points)
    return np.unique(np.linspace(0, n_points - 1, limit).round().astype(np.intp))


def sample_positions(n_rows, limit=MAX_SAMPLE_POINTS):
    """Evenly spaced positions of at most ``limit`` rows: deterministic, and spread over the whole holdout."""
    return thin(n_rows, limit)

