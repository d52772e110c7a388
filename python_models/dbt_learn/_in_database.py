"""Entry points called by the SQL functions that ``dbt_learn.install`` creates (PL/Python, SECURITY DEFINER).

Each takes ``plpy`` and plain SQL values, validates once, and leaves the computing to the pure modules.
"""

import functools
import hashlib
import json
import os
import tempfile
import time
from contextlib import contextmanager

from . import registry, serialization
from ._transport import decode_float_matrix, decode_training_rows, feature_frame, text_matrix
from ._version import __version__
from .errors import ConfigurationError, DbtLearnError, TrainingDataError
from .estimators import build_estimator, class_path, task_of
from .python_model import check_estimator, is_fitted, run_model_code
from .scoring import copy_rows, predict_batch
from .training import evaluate, fit_with_holdout, frame_training_stats, headline_metric, numeric_training_stats

_LIBRARIES = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "threadpoolctl")
_NAN = b"\x7f\xf8\x00\x00\x00\x00\x00\x00"


def library_versions():
    import platform
    from importlib.metadata import version

    return {"dbt_learn_runtime": __version__, "python": platform.python_version(),
            **{name: version(name) for name in _LIBRARIES}}


def runtime_info():
    """JSON describing the runtime the database loads; install records it and the macros check it."""
    return json.dumps({"runtime_version": __version__, "libraries": library_versions()})


@contextmanager
def _user_errors(plpy):
    """Turn our exceptions into a plain ERROR whose message is the text the user should read."""
    try:
        yield
    except DbtLearnError as exc:
        plpy.error(str(exc))


def _returns_user_errors(function):
    """For the functions a macro calls directly: a user error comes back as ``{"error": ...}``, which the macro
    raises as a dbt error with only that text (a Postgres ERROR would drag a Python traceback into dbt's output)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except DbtLearnError as exc:
            return json.dumps({"error": str(exc)})

    return wrapper


@contextmanager
def _thread_limit(options):
    """Cap BLAS/OpenMP threads: dbt runs several models at once, each in its own backend.

    ``threads_per_model`` wins when set; otherwise the cores are shared out among dbt's threads.
    """
    from threadpoolctl import threadpool_limits

    limit = options.get("threads_per_model") or max(1, (os.cpu_count() or 1) // max(1, options.get("dbt_threads") or 1))
    with threadpool_limits(limits=int(limit)):
        yield


@_returns_user_errors
def describe_algorithm(plpy, model, algorithm, params_json, random_state):
    """Validate an algorithm and its hyperparameters before any data moves; returns its task and class."""
    params = json.loads(params_json) if params_json else {}
    estimator = build_estimator(model, algorithm, params, random_state, registry.allowed_packages(plpy))
    return json.dumps({"task": task_of(estimator), "class_path": class_path(type(estimator)),
                       "params": _plain_params(estimator)})


def _plain_params(estimator):
    return {key: value if isinstance(value, (str, int, float, bool, type(None), list, dict)) else repr(value)
            for key, value in estimator.get_params(deep=False).items()}


@_returns_user_errors
def train_sql_model(plpy, model_schema, model_name, spec_json, n_rows, null_targets, rows, classes):
    """Fit the configured estimator on the batch a SQL ml_train model sent; returns the new version as JSON."""
    spec = json.loads(spec_json)
    target_name = (spec.get("target") or {}).get("name")
    if n_rows == 0:
        raise TrainingDataError(
            f"model '{model_name}': the training view returned no rows; check its filters and upstream models.")
    if null_targets:
        raise TrainingDataError(
            f"model '{model_name}': target column '{target_name}' is NULL in {null_targets} of {n_rows} rows; "
            f"filter them out in the training view (where {target_name} is not null).")
    estimator = build_estimator(model_name, spec["algorithm"], spec.get("params"), spec.get("random_state"),
                                registry.allowed_packages(plpy))
    task = task_of(estimator)
    if task != spec["task"]:
        raise ConfigurationError(f"model '{model_name}': the algorithm's task changed while training; rerun.")
    names = [feature["name"] for feature in spec["features"]]
    target_kind = {"classification": "int4", "regression": "float8"}.get(task)
    X, y = decode_training_rows(rows, n_rows, len(names), target_kind, model=model_name)
    with _thread_limit(spec):
        fitted, metrics, fit_seconds, holdout_rows = fit_with_holdout(
            model_name, estimator, X, y, task, holdout_size=spec.get("holdout_size", 0.2),
            random_state=spec.get("random_state"), refit=spec.get("refit", True))
    record = _record(spec, model_schema, model_name, "sql", task, fitted, classes, names, spec["features"],
                     n_rows, holdout_rows, metrics, fit_seconds, numeric_training_stats(names, X),
                     hashlib.sha256(rows).hexdigest())
    return _register(plpy, record, fitted)


def _record(spec, model_schema, model_name, language, task, fitted, classes, names, features, n_rows, holdout_rows,
            metrics, fit_seconds, stats, fingerprint):
    target = spec.get("target") or {}
    return {
        "model_schema": model_schema, "model_name": model_name, "language": language, "task": task,
        "algorithm": class_path(type(fitted)), "params": _plain_params(fitted),
        "target_column": target.get("name"), "target_type": target.get("type"), "classes": classes,
        "id_columns": spec.get("id_columns") or [], "features": features, "training_rows": n_rows,
        "holdout_rows": holdout_rows, "metrics": metrics, "fit_seconds": fit_seconds, "training_stats": stats,
        "data_fingerprint": fingerprint, "library_versions": library_versions(),
        "dbt_invocation_id": spec.get("invocation_id"), "dbt_unique_id": spec.get("unique_id"),
        "config": spec.get("config") or {}, "feature_names": names,
    }


def _register(plpy, record, fitted):
    artifact, sha256 = serialization.dump(fitted, record["model_name"])
    record.update(artifact_sha256=sha256, artifact_bytes=len(artifact))
    version = registry.register_version(plpy, record, artifact)
    headline = headline_metric(record["task"])
    return json.dumps({
        "version": version, "task": record["task"], "algorithm": record["algorithm"],
        "training_rows": record["training_rows"], "holdout_rows": record["holdout_rows"],
        "fit_seconds": record["fit_seconds"], "metrics": record["metrics"], "headline_metric": headline,
        "headline_value": record["metrics"].get(headline), "artifact_sha256": sha256,
    })


@_returns_user_errors
def train_python_model(plpy, model_schema, model_name, spec_json, code, filename):
    """Run a dbt Python model's code; fit what it returns unless already fitted; register the result."""
    spec = json.loads(spec_json)
    returned, frames_loaded = run_model_code(model_name, code, filename, lambda r: load_relation(plpy, r))
    estimator = check_estimator(model_name, filename, returned)
    task = task_of(estimator)
    target_name = (spec.get("target") or {}).get("name")
    frame = frames_loaded[-1] if frames_loaded else None
    X = y = None
    if frame is not None and (target_name or task == "clustering"):
        X, y = _split_frame(model_name, frame, target_name, spec)
    fitted_by_code = is_fitted(estimator)
    if not fitted_by_code and X is None:
        raise ConfigurationError(
            f"model '{model_name}' ({filename}): model() returned an unfitted {type(estimator).__name__}; "
            f"set meta.target (and load the training rows with dbt.ref) so dbt_learn can fit it, or fit it "
            f"in the model code.")
    if not fitted_by_code and len(X) == 0:
        raise TrainingDataError(f"model '{model_name}': the training view returned no rows.")
    with _thread_limit(spec):
        if fitted_by_code:
            fitted, holdout_rows, fit_seconds = estimator, 0, None
            if X is not None and hasattr(fitted, "feature_names_in_"):
                X = X[[name for name in fitted.feature_names_in_ if name in X.columns]]
            metrics = _evaluate_fitted(model_name, task, fitted, X, y)
        else:
            fitted, metrics, fit_seconds, holdout_rows = fit_with_holdout(
                model_name, estimator, X, y, task, holdout_size=spec.get("holdout_size", 0.2),
                random_state=spec.get("random_state"), refit=spec.get("refit", True))
    names = [str(name) for name in getattr(fitted, "feature_names_in_", X.columns if X is not None else [])]
    features = _frame_features(model_name, names, frame)
    classes = [str(label) for label in fitted.classes_] if task == "classification" else None
    if target_name and frame is not None:
        spec["target"]["type"] = frame.attrs["pg_types"].get(target_name)
    fingerprint = hashlib.sha256(code.encode())
    if X is not None:
        import pandas as pd
        fingerprint.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    record = _record(spec, model_schema, model_name, "python", task, fitted, classes, names, features,
                     0 if X is None else len(X), holdout_rows, metrics, fit_seconds or 0.0,
                     frame_training_stats(X) if X is not None else {}, fingerprint.hexdigest())
    return _register(plpy, record, fitted)


def _evaluate_fitted(model, task, fitted, X, y):
    # No holdout exists for an estimator the model code fitted itself: score it on the rows dbt.ref() loaded.
    if X is None or not len(X):
        return {}
    try:
        metrics = evaluate(task, fitted, X, y)
    except ValueError as exc:
        raise TrainingDataError(f"model '{model}': the fitted estimator cannot predict the training view: {exc}")
    return {**metrics, "evaluated_on": "training rows (the model code fitted the estimator)"}


def _split_frame(model, frame, target_name, spec):
    if target_name and target_name not in frame.columns:
        raise TrainingDataError(
            f"model '{model}': target column '{target_name}' is not in the frame dbt.ref() returned; its columns "
            f"are: {', '.join(map(str, frame.columns))}.")
    dropped = [c for c in [target_name, *(spec.get("id_columns") or []), *(spec.get("exclude_columns") or [])]
               if c and c in frame.columns]
    y = frame[target_name].to_numpy() if target_name else None
    if y is not None and frame[target_name].isna().any():
        raise TrainingDataError(
            f"model '{model}': target column '{target_name}' has NULLs; filter them out in the training view.")
    return frame.drop(columns=dropped), y


def _frame_features(model, names, frame):
    pg_types = frame.attrs.get("pg_types", {}) if frame is not None else {}
    numeric_categories = frame.attrs.get("numeric_columns", set()) if frame is not None else set()
    if frame is not None:
        missing = [name for name in names if name not in pg_types]
        if missing:
            raise ConfigurationError(
                f"model '{model}': the estimator expects features {missing} that the training view does not have.")
    return [{"name": name, "type": pg_types.get(name, "double precision"),
             "kind": "numeric" if name in numeric_categories or frame is None else "categorical"} for name in names]


def load_relation(plpy, relation_name):
    """``dbt.ref()`` for Python models: a relation as a pandas DataFrame, numeric columns moved as binary."""
    import numpy as np
    import pandas as pd

    oid = plpy.execute(plpy.prepare("select $1::regclass::oid as oid", ["text"]), [relation_name])[0]["oid"]
    columns = plpy.execute(plpy.prepare(
        "select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, t.typcategory as category, "
        "quote_ident(a.attname) as quoted from pg_attribute a join pg_type t on t.oid = a.atttypid "
        "where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped order by a.attnum", ["oid"]), [oid])
    qualified = plpy.execute(plpy.prepare(
        "select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as q from pg_class c "
        "join pg_namespace n on n.oid = c.relnamespace where c.oid = $1", ["oid"]), [oid])[0]["q"]
    numeric = [c for c in columns if c["category"] in ("N", "B")]
    other = [c for c in columns if c["category"] not in ("N", "B")]
    nan = "'\\x7ff8000000000000'::bytea"
    parts = [f"coalesce(float8send({c['quoted']}::{'int::' if c['category'] == 'B' else ''}float8), {nan})"
             for c in numeric]
    select = ["count(*) as n_rows",
              f"string_agg({' || '.join(parts)}, ''::bytea) as numeric" if parts else "null::bytea as numeric"]
    select += [f"array_agg({c['quoted']}::text) as c{i}" for i, c in enumerate(other)]
    row = plpy.execute(f"select {', '.join(select)} from {qualified}")[0]
    n_rows = row["n_rows"]
    matrix = decode_float_matrix(row["numeric"], n_rows, len(numeric), model=relation_name)
    data = {}
    for i, column in enumerate(numeric):
        values = matrix[:, i]
        if column["category"] == "B" and not np.isnan(values).any():
            values = values.astype(bool)
        elif column["type"] in ("smallint", "integer", "bigint") and not np.isnan(values).any():
            values = values.astype(np.int64)
        data[column["name"]] = values
    for i, column in enumerate(other):
        data[column["name"]] = pd.Series(row[f"c{i}"] or [], dtype=object)
    frame = pd.DataFrame({c["name"]: data[c["name"]] for c in columns})
    frame.attrs["pg_types"] = {c["name"]: c["type"] for c in columns}
    frame.attrs["numeric_columns"] = {c["name"] for c in numeric}
    return frame


_temp_tables = 0


def predict_into_temp(plpy, model_schema, model_name, version, n_rows, features, categorical, options_json):
    """Score one batch into a new temporary table through a binary COPY file; returns the table's name."""
    global _temp_tables
    with _user_errors(plpy):
        estimator, meta = registry.load_version(plpy, model_schema, model_name, version)
        numeric_count = sum(1 for f in meta["features"] if f["kind"] != "categorical")
        categorical_count = len(meta["features"]) - numeric_count
        _temp_tables += 1
        table = f"dbt_learn_predictions_{os.getpid()}_{_temp_tables}"
        plpy.execute(f"create temporary table {plpy.quote_ident(table)} (row_number int8, prediction float8, "
                     f"class_index int4, probabilities float8[]) on commit drop")
        if n_rows == 0:
            return table
        from .errors import ScoringError
        numeric = decode_float_matrix(features, n_rows, numeric_count, model=model_name, error=ScoringError)
        X = numeric
        if categorical_count or hasattr(estimator, "feature_names_in_"):
            X = feature_frame(meta["features"], numeric,
                              text_matrix(categorical, n_rows, categorical_count, model=model_name))
        with _thread_limit(json.loads(options_json or "{}")):
            prediction, class_index, probabilities = predict_batch(
                model_name, estimator, X, meta["task"], [f["name"] for f in meta["features"]])
        _copy_into(plpy, table, copy_rows(n_rows, prediction, class_index, probabilities))
        return table


def _copy_into(plpy, table, payload):
    # A server-side file read by COPY in this same backend: the fastest set-based way back (see the bulk-data note).
    # /dev/shm keeps it in memory; it can be small in containers, so a full one falls back to the temp directory.
    directories = [d for d in ("/dev/shm", tempfile.gettempdir()) if os.access(d, os.W_OK)]
    for attempt, directory in enumerate(directories, 1):
        handle, path = tempfile.mkstemp(prefix="dbt_learn_", suffix=".copy", dir=directory)
        try:
            try:
                with os.fdopen(handle, "wb") as file:
                    file.write(payload)
            except OSError:
                if attempt == len(directories):
                    raise
                continue
            plpy.execute(f"copy pg_temp.{plpy.quote_ident(table)} from {plpy.quote_literal(path)} "
                         f"with (format binary)")
            return
        finally:
            os.unlink(path)
