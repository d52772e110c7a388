"""How a version is evaluated: the holdout split, the metrics of each task, and optional k-fold cross-validation.

Metric names are this package's public vocabulary (meta.deploy_metric, the ml_metric_threshold test), so each task's
list is fixed here; every value comes from sklearn.metrics.
"""

import numpy as np

from .errors import ConfigurationError, TrainingDataError

METRICS = {
    "regression": ("r2", "mae", "rmse", "mape"),
    "classification": ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro",
                       "f1_weighted", "roc_auc", "roc_auc_ovr", "log_loss"),
    "clustering": ("silhouette",),
    "anomaly_detection": ("anomaly_rate", "mean_anomaly_score"),
    "recommendation": ("ndcg_at_k", "precision_at_k", "recall_at_k", "hit_rate_at_k", "coverage"),
}
LOWER_IS_BETTER = frozenset({"mae", "rmse", "mape", "log_loss"})
HEADLINE = {"regression": "r2", "classification": "accuracy", "clustering": "silhouette",
            "anomaly_detection": "anomaly_rate", "recommendation": "ndcg_at_k"}
SPLITS = ("auto", "random", "stratified", "time")
# The sklearn scorers cross-validation reports, per task (negated errors are turned back into errors).
_CV_SCORERS = {
    "regression": {"r2": "r2", "rmse": "neg_root_mean_squared_error"},
    "classification": {"accuracy": "accuracy", "f1_macro": "f1_macro"},
}


def metric_catalog():
    """Every task's metrics as rows for the registry's ``dbt_learn.metric_definitions``, which install fills from
    here, so SQL (the package models, the quality tests) reads the same names, directions and headline metric."""
    return [{"task": task, "metric": metric, "position": position, "higher_is_better": metric not in LOWER_IS_BETTER,
             "is_headline": HEADLINE.get(task) == metric}
            for task, names in METRICS.items() for position, metric in enumerate(names, start=1)]


def check_metric(model, task, metric, option):
    """Refuse a metric name the task does not produce, listing those it does."""
    if metric not in METRICS.get(task, ()):
        raise ConfigurationError(
            f"model '{model}': {option} '{metric}' is not a {task} metric; {task} metrics are: "
            f"{', '.join(METRICS.get(task, ()))}."
        )


def is_better(candidate, incumbent, lower_is_better):
    """Whether a metric value beats another; a missing incumbent is always beaten, a missing candidate never wins."""
    if candidate is None:
        return False
    if incumbent is None:
        return True
    return candidate < incumbent if lower_is_better else candidate > incumbent


def take(X, index):
    """Rows of an array or a DataFrame by position."""
    return X.iloc[index] if hasattr(X, "iloc") else X[index]


def split_rows(model, y, task, n_rows, *, holdout_size, random_state, split="auto", order=None,
               class_names=None):
    """Positions of the fit rows and the holdout rows (None when holdout_size is 0).

    ``class_names`` turns class indexes (how SQL models send a target) back into labels for messages.
    """
    from sklearn.model_selection import train_test_split

    positions = np.arange(n_rows)
    if not holdout_size:
        return positions, None
    if split not in SPLITS:
        raise ConfigurationError(f"model '{model}': meta.split '{split}' is unknown; use one of {', '.join(SPLITS)}.")
    if n_rows < 2:
        raise TrainingDataError(f"model '{model}': {n_rows} training row is too few for a holdout; add rows or set "
                                f"meta.holdout_size to 0.")
    n_holdout = int(np.ceil(holdout_size * n_rows))
    if split == "time":
        ranked = np.argsort(order, kind="stable")
        return np.sort(ranked[:n_rows - n_holdout]), np.sort(ranked[n_rows - n_holdout:])
    stratify = None
    if split in ("auto", "stratified") and task == "classification":
        labels, counts = np.unique(np.asarray(y).astype(str), return_counts=True)
        feasible = counts.min() >= 2 and len(labels) <= min(n_holdout, n_rows - n_holdout)
        if feasible:
            stratify = y
        elif split == "stratified":
            rare = labels[counts.argmin()]
            rare = class_names[int(rare)] if class_names is not None else rare
            raise TrainingDataError(
                f"model '{model}': meta.split 'stratified' needs at least 2 rows of every class in each part; class "
                f"'{rare}' has {counts.min()} row(s) among {n_rows}. Add rows, use split 'random', or drop the class."
            )
    elif split == "stratified":
        raise ConfigurationError(f"model '{model}': meta.split 'stratified' applies to classifiers only.")
    fit, holdout = train_test_split(positions, test_size=n_holdout, random_state=random_state, stratify=stratify)
    return np.sort(fit), np.sort(holdout)


def model_outputs(task, estimator, X, threshold=None):
    """The estimator's outputs on X - predictions, probabilities for classifiers with predict_proba, anomaly scores
    for outlier detectors - computed once for both the holdout metrics and the prediction baseline. A clusterer
    without predict gives none. ``threshold`` turns a binary classifier's probability of its second class into the
    predicted class (>= threshold), as scoring does."""
    if X is None or len(X) == 0 or not hasattr(estimator, "predict"):
        return {}
    from .scoring import class_outputs, preprocessed

    if task == "anomaly_detection":
        final, X = preprocessed(estimator, X, task, False)
        return {"predicted": final.predict(X), "score": anomaly_scores(final, X)}
    if task == "classification" and hasattr(estimator, "predict_proba"):
        # One evaluation, as scoring does: the preprocessing once, the classes from the probabilities.
        final, X = preprocessed(estimator, X, task, True)
        proba = np.asarray(final.predict_proba(X), dtype=np.float64)
        return {"predicted": predicted_classes(final, proba, threshold) if threshold is not None
                else np.asarray(final.classes_)[class_outputs(final, X, proba)], "proba": proba}
    return {"predicted": estimator.predict(X)}


def predicted_classes(estimator, proba, threshold):
    """A binary classifier's classes from its probabilities: the second class where its probability >= threshold."""
    classes = np.asarray(estimator.classes_)
    return classes[(np.asarray(proba)[:, 1] >= threshold).astype(np.intp)]


def anomaly_scores(estimator, X):
    """Higher is more anomalous: minus the estimator's score_samples (or decision_function)."""
    scorer = getattr(estimator, "score_samples", None) or estimator.decision_function
    return -np.asarray(scorer(X), dtype=np.float64)


def check_threshold(model, task, estimator, threshold, n_classes):
    """meta.threshold applies to binary classifiers with predict_proba only, as a probability in (0, 1)."""
    if threshold is None:
        return
    if task != "classification" or not hasattr(estimator, "predict_proba"):
        raise ConfigurationError(f"model '{model}': meta.threshold applies to classifiers with predict_proba; "
                                 f"{type(estimator).__name__} is not one. Remove meta.threshold.")
    if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0 < threshold < 1:
        raise ConfigurationError(f"model '{model}': meta.threshold must be a probability between 0 and 1 "
                                 f"(exclusive), got {threshold!r}.")
    if n_classes is not None and n_classes != 2:
        raise ConfigurationError(f"model '{model}': meta.threshold applies to binary classifiers; the target has "
                                 f"{n_classes} classes. Remove meta.threshold.")


def compute_metrics(task, estimator, X, y, outputs=None, threshold=None):
    """Every metric of the task that is defined on these rows (a holdout with one class has no roc_auc).

    ``outputs`` are the estimator's model_outputs on X when the caller already has them.
    """
    from sklearn import metrics

    if X is None or len(X) == 0:
        return {}
    outputs = model_outputs(task, estimator, X, threshold) if outputs is None else outputs
    results = {}

    def record(name, compute):
        try:
            value = compute()
        except (ValueError, TypeError):
            return
        results[name] = value if not isinstance(value, (float, np.floating)) else float(value)

    if task == "regression":
        predicted = outputs["predicted"]
        if len(y) > 1:
            record("r2", lambda: metrics.r2_score(y, predicted))
        record("mae", lambda: metrics.mean_absolute_error(y, predicted))
        record("rmse", lambda: metrics.root_mean_squared_error(y, predicted))
        record("mape", lambda: metrics.mean_absolute_percentage_error(y, predicted))
    elif task == "classification":
        predicted = outputs["predicted"]
        classes = estimator.classes_
        record("accuracy", lambda: metrics.accuracy_score(y, predicted))
        record("balanced_accuracy", lambda: metrics.balanced_accuracy_score(y, predicted))
        for average in ("macro", "weighted"):
            record(f"f1_{average}", lambda: metrics.f1_score(y, predicted, average=average, zero_division=0))
        record("precision_macro", lambda: metrics.precision_score(y, predicted, average="macro", zero_division=0))
        record("recall_macro", lambda: metrics.recall_score(y, predicted, average="macro", zero_division=0))
        if "proba" in outputs:
            proba = outputs["proba"]
            if len(classes) == 2:
                record("roc_auc", lambda: metrics.roc_auc_score(np.asarray(y) == classes[1], proba[:, 1]))
            else:
                record("roc_auc_ovr", lambda: metrics.roc_auc_score(y, proba, multi_class="ovr", labels=classes))
            record("log_loss", lambda: metrics.log_loss(y, proba, labels=classes))
        record("confusion_matrix", lambda: metrics.confusion_matrix(y, predicted, labels=classes).tolist())
    elif task == "clustering":
        labels = outputs["predicted"] if "predicted" in outputs else estimator.labels_
        found, counts = np.unique(labels, return_counts=True)
        results["cluster_sizes"] = {str(label): int(count) for label, count in zip(found, counts)}
        if 1 < len(found) < len(X):
            from .preprocessing import transformed

            # On the rows as the clusterer saw them (encoded, scaled); a sample keeps it O(n) at scale.
            sample = np.arange(0, len(X), max(1, -(-len(X) // 10_000)))
            record("silhouette", lambda: metrics.silhouette_score(transformed(estimator, take(X, sample))[0],
                                                                  np.asarray(labels)[sample]))
    elif task == "anomaly_detection":
        record("anomaly_rate", lambda: float(np.mean(np.asarray(outputs["predicted"]) == -1)))
        record("mean_anomaly_score", lambda: float(np.mean(outputs["score"])))
    return results


def cross_validate_scores(estimator, X, y, task, *, folds, split, random_state, order=None):
    """Mean and standard deviation of the task's main metrics over k folds (time-ordered folds for split 'time')."""
    from sklearn.model_selection import KFold, StratifiedKFold, TimeSeriesSplit, cross_validate

    scorers = _CV_SCORERS.get(task)
    if not folds or scorers is None:
        return {}
    if split == "time":
        ranked = np.argsort(order, kind="stable")
        X, y = take(X, ranked), np.asarray(y)[ranked]
        splitter = TimeSeriesSplit(n_splits=folds)
    elif task == "classification" and np.unique(np.asarray(y).astype(str), return_counts=True)[1].min() >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=random_state)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=random_state)
    scores = cross_validate(estimator, X, y, cv=splitter, scoring=scorers)
    results = {}
    for name in scorers:
        values = scores[f"test_{name}"]
        values = -values if scorers[name].startswith("neg_") else values
        results[name] = {"mean": float(np.mean(values)), "std": float(np.std(values)), "folds": folds}
    return results
