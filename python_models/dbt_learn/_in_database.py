"""The runtime's information, algorithm validation, Python ml_train models and the shared register-and-deploy path.

The SQL functions reach these through ``sql_functions`` (one entry point per SQL function). Each takes ``plpy`` and
plain SQL values, validates once, and leaves the computing to the pure modules.
"""

import functools
import hashlib
import json

import numpy as np

from . import _diagnostics, preprocessing, registry, serialization
from ._entry_support import returns_user_errors, thread_limit
from ._version import __version__
from .errors import ConfigurationError, TrainingDataError
from .estimators import build_estimator, check_scorable, class_path, plain_params, task_of
from ._python_fit import evaluate_fitted, frame_features, split_frame
from ._server_io import load_relation
from .lifecycle import (check_lifecycle_options, config_fingerprint, deployment_decision, training_reason,
                        unchanged_since)
from .evaluation import metric_catalog, take
from .python_model import check_estimator, is_fitted, run_model_code
from .training import (IMPORTANCE_ROWS, Fit, fit_with_holdout, frame_training_stats, headline_metric,
                       importance_rows, training_prediction_stats)

_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")
_OPTIONAL_LIBRARIES = ("xgboost", "lightgbm", "skops")


@functools.lru_cache(maxsize=None)
def _library_versions():
    import platform

    from ._library_check import running_version  # the load check's own lookup: the same names find the same versions

    found = {name: running_version(name) for name in (*_LIBRARIES, *_OPTIONAL_LIBRARIES)}
    return {"dbt_learn_runtime": __version__, "python": platform.python_version(),
            **{name: found[name] for name in _LIBRARIES},
            **{name: found[name] for name in _OPTIONAL_LIBRARIES if found[name]}}  # the optional ones when installed


def library_versions():
    """The runtime's and its libraries' versions, recorded with every version (read once per backend: six package
    metadata lookups cost 0.05-0.09 s)."""
    return dict(_library_versions())


def runtime_info():
    """JSON describing the runtime the database loads; install records it and the macros check it."""
    return json.dumps({"runtime_version": __version__, "libraries": library_versions(), "metrics": metric_catalog()})


def algorithms(plpy):
    """The estimators ml_train can name, for the SQL function dbt_learn.algorithms (the ml_algorithms model)."""
    from ._catalog import algorithms_rows

    return algorithms_rows(registry.allowed_packages(plpy))


@returns_user_errors
def describe_algorithm(plpy, model, algorithm, params_json, random_state):
    """Validate an algorithm and its hyperparameters before any data moves; returns its task and class."""
    params = json.loads(params_json) if params_json else {}
    estimator = build_estimator(model, algorithm, params, random_state, registry.allowed_packages(plpy))
    check_scorable(model, estimator)
    return json.dumps({"task": task_of(estimator), "class_path": class_path(type(estimator)),
                       "params": plain_params(estimator)})




def _importances(model_name, spec, task, result, X, y, features):
    """Global feature importances of the served version (explanations.global_importances): the estimator's own,
    else permutation importance of the estimator fitted without the holdout, on the holdout. None when turned off
    (meta.importances false)."""
    if not spec.get("importances", True):
        return None
    from .explanations import global_importances

    holdout = result.holdout_index
    if result.importance_rows is not None:  # taken before a fit that consumed X (fit_with_holdout's consume_X)
        X_rows, y_rows = result.importance_rows
    else:  # the rows permutation importance would draw: copy only those
        rows = importance_rows(len(X), holdout, spec.get("random_state"))
        X_rows, y_rows = take(X, rows), None if y is None else np.asarray(y)[rows]
    return global_importances(model_name, result.estimator, X_rows, y_rows, task, spec.get("random_state"),
                              feature_names=[f["name"] for f in features], evaluated=result.evaluated,
                              source="holdout" if holdout is not None else "training rows",
                              max_rows=IMPORTANCE_ROWS)


def _evaluation_options(spec, order):
    return {"holdout_size": spec.get("holdout_size", 0.2), "random_state": spec.get("random_state"),
            "refit": spec.get("refit", True), "split": spec.get("split") or "auto", "order": order,
            "cv_folds": spec.get("cv_folds") or 0}


def _record(spec, model_schema, model_name, language, task, result, classes, features, n_rows, stats):
    target = spec.get("target") or {}
    return {
        "model_schema": model_schema, "model_name": model_name, "language": language, "task": task,
        "algorithm": class_path(type(preprocessing.final_estimator(result.estimator))),
        "params": plain_params(preprocessing.final_estimator(result.estimator)),
        "target_column": target.get("name"), "target_type": target.get("type"), "classes": classes,
        "id_columns": spec.get("id_columns") or [], "features": features, "training_rows": n_rows,
        "holdout_rows": result.holdout_rows, "metrics": result.metrics, "fit_seconds": result.fit_seconds or 0.0,
        "training_stats": stats, "evaluation": result.evaluation, "library_versions": library_versions(),
        "predicts_probabilities": task == "classification" and hasattr(result.estimator, "predict_proba"),
        "dbt_invocation_id": spec.get("invocation_id"), "dbt_unique_id": spec.get("unique_id"),
        "config": spec.get("config") or {}, "preprocessing": {"mode": "off"}, "feature_importances": None,
        "diagnostics": None,
    }


def _train_and_register(plpy, spec, model_schema, model_name, data_fingerprint, config_fingerprint_, fit,
                        search=None):
    """The retrain policy, then fit, register and deploy; every path reports what it did as JSON.

    ``search(complete)``, for meta.search, starts a hyperparameter search that calls ``complete(best_params,
    search_record)`` when it has run every candidate, possibly in a later call (see _search_entry).

    The model's lock is taken first and held until the training transaction commits: an overlapping run of the same
    model waits here, then finds this run's version in the fingerprints and skips.
    """
    versions = _locked_fingerprints(plpy, model_schema, model_name)
    skipped = _skipped_if_unchanged(plpy, spec, model_schema, model_name, versions, data_fingerprint,
                                    config_fingerprint_)
    if skipped:
        return skipped
    _check_pinned_version(plpy, spec, model_schema, model_name)  # before the fit: a pin to a missing version fails
    why = training_reason(spec, versions, data_fingerprint, config_fingerprint_)
    if search is not None:
        def complete(best_params, search_record):
            # A search ends in a later statement, which is another transaction when dbt's connection autocommits:
            # check again under the lock, so an overlapping run that registered meanwhile is not duplicated.
            latest = _locked_fingerprints(plpy, model_schema, model_name)
            return _skipped_if_unchanged(plpy, spec, model_schema, model_name, latest, data_fingerprint,
                                         config_fingerprint_) or _fit_and_register(
                plpy, spec, model_schema, model_name, data_fingerprint, config_fingerprint_, fit, why, search_record)
        return search(complete)
    return _fit_and_register(plpy, spec, model_schema, model_name, data_fingerprint, config_fingerprint_, fit, why)


def _locked_fingerprints(plpy, model_schema, model_name):
    """Take the model's lock, then read the fingerprints the retrain policy compares (registry.fingerprints)."""
    registry.lock_model(plpy, model_schema, model_name)
    return registry.fingerprints(plpy, model_schema, model_name)


def _skipped_if_unchanged(plpy, spec, model_schema, model_name, versions, data_fingerprint, config_fingerprint_):
    """The on_change skip check on ``versions`` (read under the lock): the skipped outcome as JSON, or None to train."""
    if (spec.get("retrain_policy") or "on_change") != "on_change" or spec.get("force"):
        return None
    reason = unchanged_since(versions, data_fingerprint, config_fingerprint_)
    if not reason:
        return None
    return json.dumps({"skipped": True, "reason": reason,
                       "deployment": _keep_serving(plpy, spec, model_schema, model_name)})


def _fit_and_register(plpy, spec, model_schema, model_name, data_fingerprint, config_fingerprint_, fit, why,
                      search_record=None):
    serving_before = registry.deployed_version(plpy, model_schema, model_name)
    result, record = fit()
    if search_record is not None:
        record["evaluation"]["search"] = search_record
    artifact, sha256 = serialization.dump(result.estimator, model_name)
    record.update(artifact_sha256=sha256, artifact_bytes=len(artifact), data_fingerprint=data_fingerprint,
                  config_fingerprint=config_fingerprint_, training_reason=why, trained_as_of=spec.get("as_of"))
    version = registry.register_version(plpy, record, artifact)
    headline = headline_metric(record["task"])
    return json.dumps({
        "version": version, "task": record["task"], "algorithm": record["algorithm"],
        "training_rows": record["training_rows"], "holdout_rows": record["holdout_rows"],
        "fit_seconds": record["fit_seconds"], "metrics": record["metrics"], "headline_metric": headline,
        "headline_value": record["metrics"].get(headline), "artifact_sha256": sha256, "training_reason": why,
        "sample": record["evaluation"].get("sample"),
        "partial_fit": record["evaluation"].get("partial_fit"),
        "deployment": _deploy(plpy, spec, model_schema, model_name, version, record["metrics"], serving_before),
    })


@returns_user_errors
def keep_serving(plpy, model_schema, model_name, spec_json):
    """SQL ``dbt_learn.keep_serving``: the deployment when no training ran because the retrain policy said so (the
    materialization decides that before any data moves); the on_change skip below takes the same path."""
    return json.dumps(_keep_serving(plpy, json.loads(spec_json), model_schema, model_name))


def _keep_serving(plpy, spec, model_schema, model_name):
    """No new version: only a pinned deployment has to be honoured; report what serves."""
    _check_pinned_version(plpy, spec, model_schema, model_name)
    return _deploy(plpy, spec, model_schema, model_name, None, None)


def _check_pinned_version(plpy, spec, model_schema, model_name):
    if spec.get("deploy_strategy") == "pinned" and not registry.version_exists(
            plpy, model_schema, model_name, spec["deploy_version"]):
        raise ConfigurationError(f"model '{model_name}': meta.deploy_version {spec['deploy_version']} does not exist "
                                 f"yet; pin a trained version or use deploy_strategy 'most_recent'.")


def _deploy(plpy, spec, model_schema, model_name, new_version, new_metrics, serving_before=None):
    """Apply the deployment strategy; ``serving_before`` is what served before the new version existed."""
    if new_version is None:
        serving_before = registry.deployed_version(plpy, model_schema, model_name)
    version, strategy, reason = deployment_decision(spec, new_version, new_metrics, serving_before)
    if version is not None:
        registry.deploy(plpy, model_schema, model_name, version, strategy, reason)
    serving = registry.deployed_version(plpy, model_schema, model_name)
    return {"deployed_version": serving[0] if serving else None, "strategy": strategy, "reason": reason,
            "deployed_new": version is not None and version == new_version}


@returns_user_errors
def train_python_model(plpy, model_schema, model_name, spec_json, code, filename):
    """Run a dbt Python model's code; fit what it returns unless already fitted; register the result."""
    spec = json.loads(spec_json)
    if spec.get("sample"):
        raise ConfigurationError(f"model '{model_name}': meta.sample applies to SQL ml_train models; a Python model "
                                 f"reads its rows with dbt.ref() and can sample them in its own code.")
    if not registry.python_models_allowed(plpy):
        raise ConfigurationError(f"model '{model_name}': this database's dbt_learn install does not allow Python "
                                 f"models (dbt_learn.install with allow_python_models: true enables them).")
    returned, frames_loaded = run_model_code(model_name, code, filename, lambda r: load_relation(plpy, r))
    estimator = check_estimator(model_name, filename, returned)
    task = task_of(estimator, model_name)
    check_scorable(model_name, estimator)
    check_lifecycle_options(model_name, spec, task)
    target_name = (spec.get("target") or {}).get("name")
    frame = frames_loaded[-1] if frames_loaded else None
    X = y = None
    if frame is not None and (target_name or task == "clustering"):
        X, y = split_frame(model_name, frame, target_name, spec)
    fitted_by_code = is_fitted(estimator)
    if not fitted_by_code and X is None:
        raise ConfigurationError(
            f"model '{model_name}' ({filename}): model() returned an unfitted {type(estimator).__name__}; "
            f"set meta.target (and load the training rows with dbt.ref) so dbt_learn can fit it, or fit it "
            f"in the model code.")
    if not fitted_by_code and len(X) == 0:
        raise TrainingDataError(f"model '{model_name}': the training view returned no rows.")
    if fitted_by_code and X is not None and hasattr(estimator, "feature_names_in_"):
        X = X[[name for name in estimator.feature_names_in_ if name in X.columns]]
    order = None
    if spec.get("split") == "time" and X is not None:
        if spec.get("split_column") not in frame.columns:
            raise ConfigurationError(f"model '{model_name}': meta.split_column '{spec.get('split_column')}' is not "
                                     f"in the frame dbt.ref() returned.")
        order = frame[spec["split_column"]].rank(method="first").to_numpy()
        X = X.drop(columns=[spec["split_column"]], errors="ignore")

    def fit():
        with thread_limit(spec):
            if fitted_by_code:
                result = Fit(estimator, evaluate_fitted(model_name, task, estimator, X, y), None, 0,
                             {"split": "none (fitted by the model code)",
                              "prediction_stats": training_prediction_stats(task, estimator, X)})
            else:
                result = fit_with_holdout(model_name, estimator, X, y, task, threshold=spec.get("threshold"),
                                          **_evaluation_options(spec, order))
            names = [str(n) for n in getattr(result.estimator, "feature_names_in_",
                                             X.columns if X is not None else [])]
            classes = [str(label) for label in result.estimator.classes_] if task == "classification" else None
            if target_name and frame is not None:
                spec["target"]["type"] = frame.attrs["pg_types"].get(target_name)
            features = frame_features(model_name, names, frame)
            record = _record(spec, model_schema, model_name, "python", task, result, classes, features,
                             0 if X is None else len(X), frame_training_stats(X) if X is not None else {})
            record["preprocessing"] = {"mode": "the model's own code"}
            if X is not None and not fitted_by_code:
                record["feature_importances"] = _importances(model_name, spec, task, result, X, y, features)
                record["diagnostics"] = _diagnostics.for_fit(task, result, X, y, threshold=spec.get("threshold"),
                                                             random_state=spec.get("random_state"))
        return result, record

    data_fingerprint = hashlib.sha256()
    if frame is not None:
        import numpy as np
        import pandas as pd

        # dbt.ref() reads in scan order: hash rows, then sort the hashes, so the order cannot change the fingerprint.
        data_fingerprint.update(np.sort(pd.util.hash_pandas_object(frame, index=False).to_numpy()).tobytes())
    search = None
    if spec.get("search"):
        if fitted_by_code or X is None:
            raise ConfigurationError(f"model '{model_name}': meta.search needs an unfitted estimator and its "
                                     f"training rows (meta.target and dbt.ref()); this model's code fitted it itself. "
                                     f"Return the unfitted estimator, or drop meta.search.")
        from . import _search_entry

        def search(complete):
            return _search_entry.start(plpy, model_name, spec, estimator, X, y, task, complete, order=order)
    return _train_and_register(plpy, spec, model_schema, model_name, data_fingerprint.hexdigest(),
                               config_fingerprint(spec, code), fit, search)

