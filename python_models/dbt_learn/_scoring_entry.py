"""Scoring entry points called by the SQL functions: a batch into a temporary table of arrays (ml_score), and one
row with the serving version (dbt_learn.predict / predict_class / predict_proba, with numbers in training order or
a jsonb object of any feature types), and one row as the model sees it (dbt_learn.preprocess_row)."""

import json
import os

import numpy as np

from . import registry
from ._entry_support import thread_limit, user_errors
from ._interrupts import interruptible
from ._server_io import copy_into
from ._transport import decode_float_matrix, decode_text_column, feature_frame
from .errors import ScoringError
from .scoring import copy_arrays, predict_batch

_temp_tables = 0


def _takes_frame(estimator, meta):
    """Pipelines with text or datetime features, and estimators a Python model fitted on a frame, take a DataFrame
    by feature name; the rest the float64 matrix in training order."""
    from .preprocessing import takes_frame

    return takes_frame(estimator) or hasattr(estimator, "feature_names_in_") \
        or any(f["kind"] != "numeric" for f in meta["features"])


def predict_into_temp(plpy, model_schema, model_name, version, n_rows, features, categorical, options_json):
    """Score one batch into a new temporary table of one row of arrays, loaded from a binary COPY file; returns the
    table's name (``dbt_learn.predict_batch`` returns its row; the table is dropped at commit).

    ``features`` holds the numeric and datetime features (float8, row-major), ``categorical`` one blob per text
    feature in training order (see _transport.decode_text_column).
    """
    global _temp_tables
    with user_errors(plpy):
        with interruptible():  # a large artifact's first load (imports, deserialization) runs for seconds
            estimator, meta = registry.load_version(plpy, model_schema, model_name, version)
        options = json.loads(options_json or "{}")
        _temp_tables += 1
        table = f"dbt_learn_predictions_{os.getpid()}_{_temp_tables}"
        plpy.execute(f"create temporary table {plpy.quote_ident(table)} (prediction float8[], class_index int4[], "
                     f"probabilities float8[], contribution_feature int4[], contribution float8[]) on commit drop")
        if not n_rows:
            return table
        outputs = score_chunk(model_name, estimator, meta, n_rows, features, categorical, options)
        copy_into(plpy, table, copy_arrays(n_rows, *outputs))
        return table


def score_chunk(model_name, estimator, meta, n_rows, features, categorical, options):
    """``(prediction, class_index, probabilities, contribution_feature, contribution)`` of one batch in its wire
    form (see ``predict_into_temp``); outputs the options do not ask for are None."""
    texts = [f for f in meta["features"] if f["kind"] == "categorical"]
    X = decode_float_matrix(features, n_rows, len(meta["features"]) - len(texts), model=model_name,
                            error=ScoringError)
    if _takes_frame(estimator, meta):
        blobs = categorical or []
        if len(blobs) != len(texts):
            raise ScoringError(f"model '{model_name}': received {len(blobs)} text feature columns, the model "
                               f"takes {len(texts)}; the dbt_learn macros and the runtime disagree.")
        X = feature_frame(meta["features"], X, [
            decode_text_column(blob, n_rows, model=model_name, column=f["name"], error=ScoringError)
            for blob, f in zip(blobs, texts)])
    explain = options.get("explain")
    names = [f["name"] for f in meta["features"]]
    with thread_limit(options):
        prediction, class_index, probabilities = predict_batch(
            model_name, estimator, X, meta["task"], names, threshold=meta.get("threshold"))
        positions = contributions = None
        if explain:
            from .explanations import top_contributions

            explained = top_contributions(estimator, X, int(explain), model=model_name, feature_names=names)
            positions, contributions = explained.feature_index, explained.contribution
    return prediction, class_index, probabilities, positions, contributions


def predict_row(plpy, model_schema, model_name, features, output, serving):
    """Row-level scoring for online use: one row with the serving version, as numbers in training order (the
    variadic float8 form) or as a JSON object of feature name -> value of any type (the jsonb form).

    ``serving`` is ``(allowed, version, artifact_sha256)`` as the SQL function (functions_ddl.sql, "Row-level
    scoring") resolved them in the caller's snapshot: the caller's USAGE on the schema, the serving version and its
    sha256. A version cached in this backend is scored without any query; a new version, a changed sha256 or a
    refused privilege goes through registry.load_version, which reads, checks and raises. ``output``: "value"
    (regressors, clusterers, anomaly scores), "class_index" or "probabilities"; returns a float8[] (one element
    but for the probabilities). Numeric rows of the estimators _row_predictors covers skip scikit-learn's per-call
    validation.
    """
    global _row_threads_limited
    with user_errors(plpy):
        estimator, meta = registry.serving_model(plpy, model_schema, model_name, serving)
        if not _row_threads_limited:
            # One row needs no thread pool; set once per backend (entering threadpool_limits costs ~3 ms).
            from threadpoolctl import threadpool_limits

            threadpool_limits(limits=1)
            _row_threads_limited = True
        fast = _fast_row(estimator, meta, features)
        X = None if fast is not None else _row(model_name, estimator, meta, features)  # says what is wrong first
        _check_output(model_name, estimator, meta, output)
        if fast is not None:
            result = _predict_fast(fast[0], meta, fast[1], output)
        else:
            result = _predict_one(model_name, estimator, meta, X, output)
        return result if output == "probabilities" else [float(result)]


_row_threads_limited = False
_UNBUILT = object()


def _fast_row(estimator, meta, features):
    """``(predictor, row)`` when a fast path covers the model and this row (floats, or a jsonb object of a
    numbers-only model), else None."""
    # Built once per cached version and kept in its metadata, so it lives exactly as long as the registry's cache
    # keeps the version (a cache of its own, keyed apart, kept every evicted estimator alive: 5 MiB a version).
    predictor = meta.get("row_predictor", _UNBUILT)
    if predictor is _UNBUILT:
        predictor = None
        if all(f["kind"] == "numeric" for f in meta["features"]) and not _takes_frame(estimator, meta):
            from ._row_predictors import build

            predictor = build(estimator, meta["task"], len(meta["features"]))
        meta["row_predictor"] = predictor
    if predictor is None:
        return None
    if isinstance(features, str):
        values = json.loads(features)
        names = [f["name"] for f in meta["features"]]
        if not isinstance(values, dict) or any(name not in values for name in names):
            return None  # the generic path says what is wrong
        features = [values[name] for name in names]
    elif features is None or len(features) != len(meta["features"]):
        return None
    try:
        row = [_NAN if value is None else float(value) for value in features]
    except (TypeError, ValueError):
        return None
    return (predictor, row) if predictor.takes(row) else None


_NAN = float("nan")


def _predict_fast(predictor, meta, row, output):
    if output == "value":
        return predictor.value(row)
    if output == "probabilities":
        return predictor.proba(row)
    threshold = meta.get("threshold")
    return int(predictor.proba(row)[1] >= threshold) if threshold is not None else predictor.class_index(row)


def _check_output(model_name, estimator, meta, output):
    task = meta["task"]
    if output == "value":
        if task == "classification":
            raise ScoringError(f"model '{model_name}' is a classifier: use dbt_learn.predict_class or "
                               f"dbt_learn.predict_proba.")
        return
    if task != "classification":
        raise ScoringError(f"model '{model_name}' is not a classifier ({task}): use dbt_learn.predict.")
    if output == "probabilities" and not hasattr(estimator, "predict_proba"):
        raise ScoringError(f"model '{model_name}': {type(estimator).__name__} has no predict_proba.")


def _row(model_name, estimator, meta, features):
    """The one-row input the estimator takes, from a float list (training order) or a JSON object by name."""
    names = [f["name"] for f in meta["features"]]
    if isinstance(features, str):
        values = json.loads(features)
        if not isinstance(values, dict):
            raise ScoringError(f"model '{model_name}': the jsonb form of predict takes an object of feature name -> "
                               f"value, e.g. jsonb_build_object('age', age, ...); features: {', '.join(names)}.")
        missing = [name for name in names if name not in values]
        if missing:
            raise ScoringError(f"model '{model_name}': the row lacks feature(s) {', '.join(missing)}; the model takes "
                               f"{', '.join(names)} (extra keys are ignored; pass null for a missing value).")
        return _frame_row(meta, [values[name] for name in names])
    if features is None or len(features) != len(names):
        raise ScoringError(f"model '{model_name}': predict got {0 if features is None else len(features)} "
                           f"feature values, the model takes {len(names)}: {', '.join(names)} (in that order).")
    if any(f["kind"] != "numeric" for f in meta["features"]):
        raise ScoringError(f"model '{model_name}' has non-numeric features ({', '.join(names)}): call the jsonb form, "
                           f"dbt_learn.predict(schema, model, jsonb_build_object(...)), or use ml_predict.")
    values = [np.nan if value is None else value for value in features]
    return _frame_row(meta, values) if _takes_frame(estimator, meta) else np.array([values], dtype=np.float64)


def _frame_row(meta, values):
    """A one-row DataFrame as the batch path builds it: datetimes as epoch seconds, text as str, NULL as None/NaN."""
    import pandas as pd

    columns = {}
    for feature, value in zip(meta["features"], values):
        if feature["kind"] == "categorical":
            columns[feature["name"]] = np.array([np.nan if value is None else str(value)], dtype=object)
        elif feature["kind"] == "datetime" and isinstance(value, str):
            stamp = pd.Timestamp(value)
            stamp = stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp
            columns[feature["name"]] = np.array([(stamp - pd.Timestamp(0)).total_seconds()])
        else:
            columns[feature["name"]] = np.array([np.nan if value is None else float(value)])
    return pd.DataFrame(columns)


def _predict_one(model_name, estimator, meta, X, output):
    """One row through the estimator itself (after _check_output): the value, the class index or the
    probabilities."""
    names = [f["name"] for f in meta["features"]]
    task = meta["task"]
    if output == "value":
        prediction, class_index, _ = predict_batch(model_name, estimator, X, task, names, with_probabilities=False)
        return float(prediction[0]) if prediction is not None else float(class_index[0])
    if output == "class_index":
        _, class_index, _ = predict_batch(model_name, estimator, X, task, names, with_probabilities=False,
                                          threshold=meta.get("threshold"))
        return int(class_index[0])
    return estimator.predict_proba(X)[0].tolist()


def preprocess_row(plpy, model_schema, model_name, features):
    """One row (a JSON object of feature name -> value) as the serving version's estimator sees it: a JSON object
    of transformed feature name -> value, in the order the estimator takes them."""
    from .preprocessing import transformed

    with user_errors(plpy):
        estimator, meta = registry.serving_model(plpy, model_schema, model_name)
        values, names = transformed(estimator, _row(model_name, estimator, meta, features),
                                    [f["name"] for f in meta["features"]])
        values = values.toarray() if hasattr(values, "toarray") else np.asarray(values, dtype=np.float64)
        return json.dumps({name: (None if not np.isfinite(v) else float(v)) for name, v in zip(names, values[0])})
