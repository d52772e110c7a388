"""python_table and python_incremental models: an ordinary dbt Python model run inside the database.

Two steps, so the result table is created by the caller (and owned by it, in its schema, with its CREATE
privilege checked by Postgres): ``python_frame`` (SECURITY INVOKER: the model's code and its ``dbt.ref()`` reads
run with the caller's privileges) runs ``model()`` and stages the returned DataFrame as a binary COPY file in this
backend; the caller's ``create table ... as select * from dbt_learn.python_frame_rows(token) as f(<columns>)`` then
has ``python_frame_into_temp`` (SECURITY DEFINER: COPY from a server file needs pg_read_server_files) load it into
a temporary table of its own, which python_frame_rows returns.
"""

import json
import os

from . import registry
from ._entry_support import returns_user_errors, user_errors
from ._frame_copy import frame_copy
from ._server_io import copy_into, load_relation
from .errors import ConfigurationError
from .python_model import call_model

_TEMP_PREFIX = "dbt_learn_frame_"
_PG_TYPES = {"smallint", "integer", "bigint", "real", "double precision", "boolean", "text", "numeric", "date",
             "bytea", "timestamp without time zone", "timestamp with time zone"}
# The frame python_frame staged in this backend: {token: (columns, payload)}. One at a time: dbt runs one model per
# connection at a time, and a frame whose model failed before python_frame_rows must not linger in memory.
_staged = {}
_tokens = 0


class FrameSession:
    """The ``session`` argument of model(): ``session.table(dbt.this)`` reads a relation (e.g. the incremental
    model's existing table) as a DataFrame, like ``dbt.ref()``, with the caller's privileges."""

    def __init__(self, load):
        self._load = load

    def table(self, relation):
        return self._load(str(relation))


def run_frame_code(model, code, filename, load, is_incremental):
    """Execute dbt's compiled model code under the user's file name and return what ``model(dbt, session)`` returns.

    dbt renders ``dbt.is_incremental`` with its own is_incremental() macro, which is true only for
    materialized='incremental'; the python_incremental materialization decides it and it is set here.
    """
    def arguments(dbt_object):
        dbt = dbt_object(load)
        dbt.is_incremental = bool(is_incremental)
        return dbt, FrameSession(load)

    return call_model(model, code, filename, arguments)


@returns_user_errors
def python_frame(plpy, model_schema, model_name, code, filename, options_json):
    """Run the model; stage its DataFrame. Returns the token and the columns (quoted names, Postgres types)."""
    global _tokens
    options = json.loads(options_json or "{}")
    if not registry.python_models_allowed(plpy):
        raise ConfigurationError(f"model '{model_name}': this database's dbt_learn install does not allow Python "
                                 f"models (dbt_learn.install with allow_python_models: true enables them).")
    frame = run_frame_code(model_name, code, filename, lambda name: load_relation(plpy, name),
                           options.get("is_incremental"))
    columns, payload = frame_copy(model_name, filename, frame)
    for column in columns:
        column["quoted"] = plpy.quote_ident(column["name"])
    _staged.clear()
    _tokens += 1
    _staged[_tokens] = (columns, payload)
    return json.dumps({"token": _tokens, "rows": len(frame), "columns": columns,
                       "column_definitions": ", ".join(f"{c['quoted']} {c['type']}" for c in columns),
                       "column_names": ", ".join(c["quoted"] for c in columns)})


def python_frame_into_temp(plpy, token):
    """Load the frame ``python_frame`` staged in this backend into a new temporary table (dropped at commit)."""
    with user_errors(plpy):
        if token not in _staged:
            raise ConfigurationError(f"dbt_learn: no DataFrame staged under token {token} in this session; "
                                     f"dbt_learn.python_frame runs the model first (python_table materialization).")
        columns, payload = _staged.pop(token)
        if not {c["type"] for c in columns} <= _PG_TYPES:  # the DDL below runs as this function's owner
            raise ConfigurationError(f"dbt_learn: unexpected column types in staged frame {token}.")
        table = f"{_TEMP_PREFIX}{os.getpid()}_{token}"
        definitions = ", ".join(f"{plpy.quote_ident(c['name'])} {c['type']}" for c in columns)
        plpy.execute(f"create temporary table {plpy.quote_ident(table)} ({definitions}) on commit drop")
        copy_into(plpy, table, payload)
        return table
