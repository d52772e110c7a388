"""Registry I/O through PL/Python's ``plpy``: the only module besides ``_in_database`` that runs SQL.

Every value travels as a query parameter; plans are prepared once per backend.
"""

import json
import math
from collections import OrderedDict

import numpy as np

from . import serialization
from ._library_check import check_loadable
from .errors import ModelAccessError, ScoringError

_plans = {}
# (schema, name, version) -> (sha256, estimator, metadata), least recently used first; the sha guards reuse after a
# purge. A pooled backend lives for days while models retrain: per model only the last _VERSIONS_PER_MODEL versions
# used stay (the serving one is used on every call; room for one more, a pinned or a just-trained version), and at
# most _MAX_CACHED in all.
_estimators = OrderedDict()
_VERSIONS_PER_MODEL = 2
_MAX_CACHED = 32


def cached_version(schema, name, version):
    """``(estimator, metadata)`` of a version this backend loaded (load_version), or None; marks it as used."""
    cached = _recall((schema, name, version))
    return None if cached is None else (cached[1], cached[2])


def _recall(key):
    cached = _estimators.get(key)
    if cached is not None:
        _estimators.move_to_end(key)
    return cached


def _remember(key, entry):
    _estimators[key] = entry
    _estimators.move_to_end(key)
    same_model = [other for other in _estimators if other[:2] == key[:2]]
    evicted = len(_estimators)
    for other in same_model[:-_VERSIONS_PER_MODEL]:
        del _estimators[other]
    while len(_estimators) > _MAX_CACHED:
        _estimators.popitem(last=False)
    if len(_estimators) < evicted:
        _release_freed_memory()


def _release_freed_memory():
    """Give an evicted version's memory back to the OS: glibc keeps freed heap memory in the process. In the load
    benchmark's pooled backend (3.9 MiB artifacts, 20 versions) its own memory (RssAnon) levels off either way, at
    134 MiB with this and 146 MiB without; VmRSS keeps rising by the shared buffers it reads, which are not its own."""
    import ctypes
    import gc

    gc.collect()
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _plan(plpy, sql, types):
    plan = _plans.get(sql)
    if plan is None:
        plan = _plans[sql] = plpy.prepare(sql, types)
    return plan


def python_models_allowed(plpy):
    rows = plpy.execute("select python_models_allowed from dbt_learn.installation")
    return bool(rows and rows[0]["python_models_allowed"])


def allowed_packages(plpy):
    rows = plpy.execute("select allowed_packages from dbt_learn.installation")
    return tuple(rows[0]["allowed_packages"]) if rows else ("sklearn",)


def work_bounds(plpy):
    """The admin's work bounds (dbt_learn.install's work_bounds) over the defaults (_work_bounds)."""
    from ._work_bounds import default_work_bounds

    rows = plpy.execute("select work_bounds::text as b from dbt_learn.installation")
    return {**default_work_bounds(), **(json.loads(rows[0]["b"] or "{}") if rows else {})}


# (column, parameter type); jsonb columns travel as text and are cast in the statement.
_VERSION_COLUMNS = (
    ("model_schema", "text"), ("model_name", "text"), ("version", "int4"), ("language", "text"), ("task", "text"),
    ("algorithm", "text"), ("params", "jsonb"), ("target_column", "text"), ("target_type", "text"),
    ("classes", "text[]"), ("id_columns", "text[]"), ("features", "jsonb"), ("training_rows", "int8"),
    ("holdout_rows", "int8"), ("metrics", "jsonb"), ("fit_seconds", "float8"), ("training_stats", "jsonb"),
    ("data_fingerprint", "text"), ("library_versions", "jsonb"), ("artifact_sha256", "text"),
    ("artifact_bytes", "int8"), ("dbt_invocation_id", "text"), ("dbt_unique_id", "text"), ("config", "jsonb"),
    ("config_fingerprint", "text"), ("evaluation", "jsonb"), ("predicts_probabilities", "bool"),
    ("training_reason", "text"), ("trained_as_of", "timestamptz"), ("preprocessing", "jsonb"),
    ("feature_importances", "jsonb"), ("diagnostics", "jsonb"),
)
_INSERT_VERSION = "insert into dbt_learn.model_versions ({}) values ({})".format(
    ", ".join(column for column, _ in _VERSION_COLUMNS),
    ", ".join(f"${i}::jsonb" if kind == "jsonb" else f"${i}" for i, (_, kind) in enumerate(_VERSION_COLUMNS, 1)),
)
_INSERT_TYPES = ["text" if kind == "jsonb" else kind for _, kind in _VERSION_COLUMNS]


def _require_schema_privilege(plpy, schema, privilege, name, doing):
    # These functions run as their owner; check the role that called them, so nobody adds versions to, or scores
    # with, models of a schema they could not use themselves.
    allowed = plpy.execute(_plan(
        plpy, "select has_schema_privilege(session_user, oid, $2) as ok from pg_namespace where nspname = $1",
        ["text", "text"]), [schema, privilege])
    if not allowed or not allowed[0]["ok"]:
        user = plpy.execute("select session_user as u")[0]["u"]
        raise ModelAccessError(
            f"model '{name}': role {user} cannot {doing} in schema {schema} (it needs {privilege} on the schema).")


def lock_model(plpy, schema, name):
    """Take the model's lock (dbt_learn.lock_model: held until the transaction ends, re-entrant), after checking the
    caller may change the model; a wait past the admin's lock_wait_seconds is a ModelAccessError with its advice."""
    _require_schema_privilege(plpy, schema, "CREATE", name, "register model versions")
    try:
        plpy.execute(_plan(plpy, "select dbt_learn.lock_model($1, $2)", ["text", "text"]), [schema, name])
    except plpy.SPIError as exc:
        if getattr(exc, "sqlstate", None) in ("55P03", "42501"):  # lock_not_available, insufficient_privilege
            raise ModelAccessError(str(exc).strip()) from None
        raise


def register_version(plpy, record, artifact):
    """Append a new version under the per-model lock; returns its number."""
    schema, name = record["model_schema"], record["model_name"]
    lock_model(plpy, schema, name)
    version = plpy.execute(_plan(
        plpy,
        "select coalesce(max(version), 0) + 1 as version from dbt_learn.model_versions "
        "where model_schema = $1 and model_name = $2",
        ["text", "text"],
    ), [schema, name])[0]["version"]
    record = {**record, "version": version}
    values = [json_text(record[column]) if kind == "jsonb" and record[column] is not None else record[column]
              for column, kind in _VERSION_COLUMNS]
    plpy.execute(_plan(plpy, _INSERT_VERSION, _INSERT_TYPES), values)
    plpy.execute(_plan(
        plpy,
        "insert into dbt_learn.model_artifacts (model_schema, model_name, version, artifact) values ($1, $2, $3, $4)",
        ["text", "text", "int4", "bytea"],
    ), [schema, name, version, artifact])
    return version


def json_text(value):
    """``value`` as the text of a jsonb value. jsonb has no NaN or Infinity: a non-finite number (a metric that is
    undefined, the moments of an all-NULL column) is stored as null, and json.dumps(allow_nan=False) refuses any that
    is left, so no path can write invalid jsonb."""
    return json.dumps(json_safe(value), default=str, allow_nan=False)


def json_safe(value):
    """``value`` in plain Python: NaN and infinities as None, numpy scalars and arrays as numbers and lists."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, np.ndarray):
        return json_safe(value.tolist())
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


# Rows of the schema that has the name $1 now: a schema dropped and created again is another schema (another OID),
# and the versions trained in the old one never serve, load or deploy in it (registry_ddl.sql, schema_oid).
_OF_THIS_SCHEMA = "schema_oid = (select oid from pg_namespace where nspname = $1)"


def _check_schema_identity(plpy, schema, name):
    """Raise the message for a model whose versions all belong to an earlier schema of this name."""
    message = plpy.execute(_plan(
        plpy, "select dbt_learn.schema_identity_error($1, $2) as message", ["text", "text"]), [schema, name])
    if message and message[0]["message"]:
        raise ModelAccessError(message[0]["message"])


def load_version(plpy, schema, name, version):
    """Return ``(estimator, metadata)`` of one version, from this backend's cache when the sha256 still matches."""
    _require_schema_privilege(plpy, schema, "USAGE", name, "score with models")
    rows = plpy.execute(_plan(
        plpy,
        "select task, features, classes, artifact_sha256, preprocessing, (config->>'threshold')::float8 as threshold, "
        "library_versions, language from dbt_learn.model_versions "
        f"where model_schema = $1 and model_name = $2 and version = $3 and {_OF_THIS_SCHEMA}",
        ["text", "text", "int4"],
    ), [schema, name, version])
    if not rows:
        _check_schema_identity(plpy, schema, name)
        known = plpy.execute(_plan(
            plpy,
            "select string_agg(version::text, ', ' order by version) as versions from dbt_learn.model_versions "
            f"where model_schema = $1 and model_name = $2 and {_OF_THIS_SCHEMA}",
            ["text", "text"],
        ), [schema, name])[0]["versions"]
        raise ScoringError(
            f"model '{name}' (schema {schema}) has no version {version}; trained versions: {known or 'none'}. "
            f"Run the ml_train model first (dbt run -s {name})."
        )
    meta = dict(rows[0])
    meta["features"] = json.loads(meta["features"])
    meta["preprocessing"] = json.loads(meta["preprocessing"] or '{"mode": "off"}')
    key = (schema, name, version)
    cached = _recall(key)
    if cached is not None and cached[0] == meta["artifact_sha256"] and _still_trusted(plpy, cached[2]):
        return cached[1], cached[2]
    check_loadable(name, version, meta.pop("library_versions", None))  # before unpickling; a cached one was checked
    artifact = plpy.execute(_plan(
        plpy,
        "select artifact from dbt_learn.model_artifacts where model_schema = $1 and model_name = $2 and version = $3",
        ["text", "text", "int4"],
    ), [schema, name, version])[0]["artifact"]
    asked = []  # whether loading it depended on the install allowing Python models (serialization.load asks then)
    estimator = serialization.load(artifact, meta["artifact_sha256"], name, version=version,
                                   language=meta.get("language"),
                                   python_models_allowed=lambda: asked.append(True) or python_models_allowed(plpy))
    meta["needs_python_models"] = bool(asked)
    _remember(key, (meta["artifact_sha256"], estimator, meta))
    return estimator, meta


def _still_trusted(plpy, meta):
    """A cached version loaded only because Python models were allowed serves only while they still are: the admin's
    switch holds for pooled backends too (one query a call, for those versions only)."""
    return not meta.get("needs_python_models") or python_models_allowed(plpy)


# The serving version of model ($1, $2) as a filter on model_versions v; dbt_learn.serving_version (the registry's
# definition, macros/registry/registry_ddl.sql) holds the rule.
_SERVING_VERSION = (
    "where v.model_schema = $1 and v.model_name = $2 and v.version = dbt_learn.serving_version($1, $2)"
)


def serving_model(plpy, schema, name, serving=None):
    """``(estimator, metadata)`` of the serving version for row-level scoring, the estimator from this backend's cache.

    ``serving``: ``(allowed, version, artifact_sha256)`` - the caller's USAGE on the schema, the serving version and
    its sha256 - as the row-level SQL functions resolve them in plain SQL (the PL/Python function they call is not
    granted to anyone, so the values cannot be forged); without it, one indexed query here. Only a version that is
    not cached (or whose sha256 differs, or a refused privilege) goes through load_version, which re-reads the
    registry, checks the privilege and the artifact's sha256, and raises."""
    if serving is None:
        rows = plpy.execute(_plan(
            plpy,
            "select has_schema_privilege(session_user, (select oid from pg_namespace where nspname = $1), 'USAGE') "
            f"as allowed, v.version, v.artifact_sha256 from dbt_learn.model_versions v {_SERVING_VERSION}",
            ["text", "text"]), [schema, name])
        serving = (rows[0]["allowed"], rows[0]["version"], rows[0]["artifact_sha256"]) if rows else (None, None, None)
    allowed, version, sha256 = serving
    if version is None:
        _check_schema_identity(plpy, schema, name)
        raise ScoringError(f"model '{name}' (schema {schema}) has no trained version; run the ml_train model first "
                           f"(dbt run -s {name}).")
    cached = _recall((schema, name, version))
    if allowed and cached is not None and cached[0] == sha256 and _still_trusted(plpy, cached[2]):
        return cached[1], cached[2]
    return load_version(plpy, schema, name, version)  # checks the privilege, loads and caches


def fingerprints(plpy, schema, name):
    """Number and fingerprints of the serving and of the newest version (one row when they are the same)."""
    rows = plpy.execute(_plan(
        plpy,
        "select v.version, v.data_fingerprint, v.config_fingerprint "
        "from dbt_learn.model_versions v "
        "where v.model_schema = $1 and v.model_name = $2 "
        "and (v.version = dbt_learn.serving_version($1, $2) or v.version = (select max(version) "
        f"from dbt_learn.model_versions where model_schema = $1 and model_name = $2 and {_OF_THIS_SCHEMA}))",
        ["text", "text"],
    ), [schema, name])
    return [dict(row) for row in rows]


def deployed_version(plpy, schema, name):
    """``(version, metrics)`` of the serving version: the last deployment, else the newest version; or None."""
    rows = plpy.execute(_plan(
        plpy,
        f"select v.version, v.metrics from dbt_learn.model_versions v {_SERVING_VERSION}",
        ["text", "text"],
    ), [schema, name])
    return (rows[0]["version"], json.loads(rows[0]["metrics"])) if rows else None


def version_exists(plpy, schema, name, version):
    return bool(plpy.execute(_plan(
        plpy, "select 1 from dbt_learn.model_versions where model_schema = $1 and model_name = $2 and version = $3 "
        f"and {_OF_THIS_SCHEMA}", ["text", "text", "int4"]), [schema, name, version]))


def deploy(plpy, schema, name, version, strategy, reason):
    """Record a deployment through dbt_learn.deploy (which checks the caller and the version)."""
    answer = json.loads(plpy.execute(_plan(
        plpy, "select dbt_learn.deploy($1, $2, $3, $4, $5)::text as answer", ["text", "text", "int4", "text", "text"]),
        [schema, name, version, strategy, reason])[0]["answer"])
    if "error" in answer:
        raise ModelAccessError(answer["error"])
    return answer
