"""Scoring entry points called by the SQL functions: a batch into a temporary table of arrays (ml_score), and one
row with the serving version (dbt_learn.predict / predict_class / predict_proba)."""

import json
import os

import numpy as np

from . import registry
from ._entry_support import thread_limit, user_errors
from ._server_io import copy_into
from ._transport import decode_float_matrix, feature_frame, text_matrix
from .errors import ScoringError
from .scoring import copy_arrays, predict_batch

_temp_tables = 0


def predict_into_temp(plpy, model_schema, model_name, version, n_rows, features, categorical, options_json):
    """Score one batch into a new temporary table of one row of arrays, loaded from a binary COPY file; returns the
    table's name (``dbt_learn.predict_batch`` returns its row; the table is dropped at commit)."""
    global _temp_tables
    with user_errors(plpy):
        estimator, meta = registry.load_version(plpy, model_schema, model_name, version)
        numeric_count = sum(1 for f in meta["features"] if f["kind"] != "categorical")
        categorical_count = len(meta["features"]) - numeric_count
        _temp_tables += 1
        table = f"dbt_learn_predictions_{os.getpid()}_{_temp_tables}"
        plpy.execute(f"create temporary table {plpy.quote_ident(table)} (prediction float8[], class_index int4[], "
                     f"probabilities float8[]) on commit drop")
        if not n_rows:
            return table
        numeric = decode_float_matrix(features, n_rows, numeric_count, model=model_name, error=ScoringError)
        X = numeric
        if categorical_count or hasattr(estimator, "feature_names_in_"):
            X = feature_frame(meta["features"], numeric,
                              text_matrix(categorical, n_rows, categorical_count, model=model_name))
        with thread_limit(json.loads(options_json or "{}")):
            prediction, class_index, probabilities = predict_batch(
                model_name, estimator, X, meta["task"], [f["name"] for f in meta["features"]])
        copy_into(plpy, table, copy_arrays(n_rows, prediction, class_index, probabilities))
        return table


def predict_row(plpy, model_schema, model_name, features, output):
    """Row-level scoring for online use: one row of numeric features (in training order) with the serving version.

    The estimator stays cached in this backend keyed by the immutable version, so after the first call a row costs
    a registry lookup and one predict. ``output``: "value" (regressors, clusterers), "class" or "probabilities".
    """
    global _row_threads_limited
    with user_errors(plpy):
        estimator, meta = registry.serving_model(plpy, model_schema, model_name)
        if not _row_threads_limited:
            # One row needs no thread pool; set once per backend (entering threadpool_limits costs ~3 ms).
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1)
            _row_threads_limited = True
        return _predict_one(model_name, estimator, meta, features, output)


_row_threads_limited = False


def _predict_one(model_name, estimator, meta, features, output):
    names = [f["name"] for f in meta["features"]]
    if any(f["kind"] == "categorical" for f in meta["features"]) or hasattr(estimator, "feature_names_in_"):
        raise ScoringError(f"model '{model_name}': row-level predict takes numeric features only; this model was "
                           f"trained on a frame ({', '.join(names)}). Score it in bulk with ml_score.")
    if features is None or len(features) != len(names):
        raise ScoringError(f"model '{model_name}': predict got {0 if features is None else len(features)} "
                           f"feature values, the model takes {len(names)}: {', '.join(names)} (in that order).")
    X = np.array([features], dtype=np.float64)
    task = meta["task"]
    if output == "value":
        if task == "classification":
            raise ScoringError(f"model '{model_name}' is a classifier: use dbt_learn.predict_class or "
                               f"dbt_learn.predict_proba.")
        prediction, class_index, _ = predict_batch(model_name, estimator, X, task, names, with_probabilities=False)
        return float(prediction[0]) if prediction is not None else float(class_index[0])
    if task != "classification":
        raise ScoringError(f"model '{model_name}' is not a classifier ({task}): use dbt_learn.predict.")
    if output == "class":
        _, class_index, _ = predict_batch(model_name, estimator, X, task, names, with_probabilities=False)
        return meta["classes"][int(class_index[0])]
    if not hasattr(estimator, "predict_proba"):
        raise ScoringError(f"model '{model_name}': {type(estimator).__name__} has no predict_proba.")
    return estimator.predict_proba(X)[0].tolist()
