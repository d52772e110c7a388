"""Training SQL ml_train models: ``train_staged`` fits on the rows ``dbt_learn.train_query`` read with the caller's
privileges (_training_read), decoded into one float64 matrix in canonical order (_training_rows), or registers the
estimator meta.partial_fit fitted chunk by chunk (_partial_fit); the rest of training is shared with the Python
models (_in_database: retrain policy, fit, register, deploy)."""

import hashlib
import json

import numpy as np

from . import _diagnostics, preprocessing, registry
from . import _in_database as core
from ._entry_support import returns_user_errors, thread_limit
from ._training_read import Batch, take_staged
from ._training_rows import decode
from ._transport import feature_frame
from .errors import ConfigurationError, TrainingDataError
from .estimators import build_estimator, task_of, thread_budget
from .evaluation import check_threshold
from .lifecycle import check_lifecycle_options, config_fingerprint
from .training import fit_with_holdout, frame_training_stats, numeric_training_stats


_TARGET_KINDS = {"classification": "int4", "regression": "float8"}


@returns_user_errors
def train_staged(plpy, model_schema, model_name, spec_json):
    """SECURITY DEFINER half of dbt_learn.train_query: fit on the rows it read with the caller's privileges (kept in
    this backend's memory by _training_read), register and deploy; returns the outcome as JSON."""
    batch = take_staged(model_schema, model_name)
    if batch is None:
        raise ConfigurationError(f"model '{model_name}': no training rows were read for it in this session; "
                                 f"dbt_learn.train_staged is called by dbt_learn.train_query only.")
    spec = json.loads(spec_json)
    if spec.get("partial_fit") or not isinstance(batch, Batch):
        from . import _partial_fit

        if not isinstance(batch, _partial_fit.Staged):
            raise ConfigurationError(f"model '{model_name}': the training rows read do not match the model's "
                                     f"options (meta.partial_fit); rerun the model.")
        return _partial_fit.register(plpy, model_schema, model_name, spec, batch)
    estimator, task, settings = _prepare(plpy, model_name, spec, batch.classes)
    width, text_names = _layout(spec)
    if (batch.blocks.width, batch.blocks.float_target, len(batch.texts), batch.classes is not None) != (
            width, task == "regression", len(text_names), task == "classification"):
        raise ConfigurationError(f"model '{model_name}': the training rows read do not match the model's features; "
                                 f"rerun the model.")
    X, y, rows_fingerprint, texts = decode(batch.blocks, _TARGET_KINDS.get(task), classes=batch.class_index,
                                           text_columns=batch.texts, keep=batch.keep, seed=batch.seed)
    sample, classes, target_type = batch.sample, batch.classes, batch.target_type
    del batch  # the blocks are freed; the decoded matrix is all that is left of the rows
    if classes is not None and len(classes) > 1:
        present = np.unique(y)
        if len(present) < len(classes):  # meta.sample rows dropped every row of a class: it is not a class here
            classes, y = [classes[i] for i in present], np.searchsorted(present, y)
    target_name = (spec.get("target") or {}).get("name")
    if task == "classification" and len(classes or ()) < 2:
        raise TrainingDataError(
            f"model '{model_name}': target '{target_name}' has one class ('{(classes or [''])[0]}') in its {len(X)} "
            f"training rows; a classifier needs at least two: check the training view's filters"
            f"{' and meta.sample' if sample else ''}, or choose an anomaly detector.")
    if task == "regression":
        _check_finite(model_name, f"target column '{target_name}'", y, len(X),
                      f"a regressor needs a finite target: filter those rows out in the training view (where "
                      f"{target_name} not in ('NaN', 'Infinity', '-Infinity'))")
    if target_type:  # an enum target is recorded, and scored, as text
        spec["target"] = {**spec["target"], "type": target_type}
    if sample:
        sample["rows_used"] = len(X)
    return _train_decoded(plpy, model_schema, model_name, spec, estimator, task, settings, X, y, texts,
                          rows_fingerprint, classes, sample)


def _check_finite(model_name, what, values, n_rows, advice, nan_is_null=False):
    """Refuse NaN, Infinity or -Infinity in ``values`` (only the infinities when NaN is a NULL feature, imputed or
    refused by the fit), naming the column and the number of rows."""
    nan, infinite = 0 if nan_is_null else int(np.isnan(values).sum()), int(np.isinf(values).sum())
    if nan or infinite:
        found = " and ".join(text for count, text in ((nan, "NaN"), (infinite, "Infinity or -Infinity")) if count)
        raise TrainingDataError(f"model '{model_name}': {what} has {found} in {nan + infinite} of {n_rows} training "
                                f"rows; {advice}.")


def infinite_feature_advice(name):
    """What to do about Infinity in feature ``name``: the end of the message every training path refuses it with."""
    return (f"dbt_learn does not treat it as missing (it is a value, not a NULL): replace it in the training view with "
            f"NULL or a finite cap (e.g. case when {name} in ('Infinity', '-Infinity') then null else {name} end)")


def _check_no_missing(model_name, estimator, numeric_names, stats, n_rows):
    """Refuse NULL/NaN features (one value in the binary transport) for an estimator that does not take NaN, naming
    the columns - scikit-learn's own error names neither."""
    from sklearn.utils import get_tags

    if get_tags(estimator).input_tags.allow_nan:
        return
    missing = [f"{name} ({stats[name]['nulls']} of {n_rows} rows)" for name in numeric_names if stats[name]["nulls"]]
    if missing:
        raise TrainingDataError(
            f"model '{model_name}': {type(estimator).__name__} does not accept missing values, and feature column "
            f"{', '.join(missing)} has NULL or NaN values; fill them in the training view (coalesce), drop those "
            f"rows, use the default meta.preprocessing (it imputes them), or choose an estimator that handles "
            f"missing values such as hist_gradient_boosting_classifier/_regressor.")


def _prepare(plpy, model_name, spec, classes):
    """The estimator, its task and the preprocessing settings, checked against the spec before the fit."""
    estimator = build_estimator(model_name, spec["algorithm"], spec.get("params"), spec.get("random_state"),
                                registry.allowed_packages(plpy), threads=thread_budget(spec))
    task = task_of(estimator, model_name)
    if task != spec["task"]:
        raise ConfigurationError(f"model '{model_name}': the algorithm's task changed while training; rerun.")
    check_lifecycle_options(model_name, spec, task)
    check_threshold(model_name, task, estimator, spec.get("threshold"), len(classes) if classes else None)
    return estimator, task, preprocessing.options(model_name, spec.get("preprocessing", "auto"))


def _layout(spec):
    """The record width (numeric and datetime features, plus the ordering column of a time split) and the names of
    the text features."""
    features = spec["features"]
    width = sum(1 for f in features if f["kind"] != "categorical") + (spec.get("split") == "time")
    return width, [f["name"] for f in features if f["kind"] == "categorical"]


def _train_decoded(plpy, model_schema, model_name, spec, estimator, task, settings, X, y, texts, rows_fingerprint,
                   classes, sample=None):
    """Everything after the decode: drift baseline, preprocessing, the retrain policy, fit, register, deploy."""
    features = spec["features"]
    numeric_names = [f["name"] for f in features if f["kind"] != "categorical"]
    text_names = [f["name"] for f in features if f["kind"] == "categorical"]
    n_rows = len(X)
    order = X[:, -1] if spec.get("split") == "time" else None
    X = X[:, :len(numeric_names)]
    stats = numeric_training_stats(numeric_names, X)
    for index, name in enumerate(numeric_names):  # Infinity shows in the extremes: no pass over X unless it is there
        if any(stats[name][key] is not None and not np.isfinite(stats[name][key]) for key in ("min", "max")):
            _check_finite(model_name, f"feature column '{name}'", X[:, index], n_rows, infinite_feature_advice(name),
                          nan_is_null=True)
    if settings is None:  # preprocessing off: nothing imputes a NULL, so an estimator that refuses NaN says where
        _check_no_missing(model_name, estimator, numeric_names, stats, n_rows)
    else:
        estimator = preprocessing.build(model_name, estimator, features, settings)
        if preprocessing.takes_frame(estimator):
            X = feature_frame(features, X, texts)
            preprocessing.check_training_frame(model_name, X, features, settings)
            stats.update(frame_training_stats(X[text_names]))
            stats = {f["name"]: stats[f["name"]] for f in features}
    del texts

    def fit():
        with thread_limit(spec):
            # Without a search X is read by nothing after this fit (the importances' rows are taken before it):
            # the final fit may overwrite it instead of copying it.
            result = fit_with_holdout(model_name, estimator, X, y, task, class_names=classes,
                                      threshold=spec.get("threshold"), consume_X=not spec.get("search"),
                                      **core._evaluation_options(spec, order))
            record = core._record(spec, model_schema, model_name, "sql", task, result, classes, features, n_rows,
                                  stats)
            record["preprocessing"] = preprocessing.describe(result.estimator, features, settings)
            record["feature_importances"] = core._importances(model_name, spec, task, result, X, y, features)
            record["diagnostics"] = _diagnostics.for_fit(task, result, X, y, class_names=classes,
                                                         threshold=spec.get("threshold"),
                                                         random_state=spec.get("random_state"))
            if sample:
                record["evaluation"]["sample"] = sample
        return result, record

    # The batch holds class indexes: the labels themselves must count as data too.
    data_fingerprint = hashlib.sha256(rows_fingerprint.encode())
    data_fingerprint.update(json.dumps(classes).encode())
    search = None
    if spec.get("search"):
        from . import _search_entry

        def search(complete):
            return _search_entry.start(plpy, model_name, spec, estimator, X, y, task, complete, order=order,
                                       class_names=classes)
    return core._train_and_register(plpy, spec, model_schema, model_name, data_fingerprint.hexdigest(),
                               config_fingerprint(spec), fit, search)
