"""Database and file I/O of the in-database runtime: relations as DataFrames (Python models' dbt.ref) and the binary
COPY file that brings predictions back."""

import os
import tempfile

from ._transport import decode_float_matrix


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


def copy_into(plpy, table, payload):
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
    raise OSError(f"dbt_learn: no writable directory for the predictions file (tried /dev/shm and "
                  f"{tempfile.gettempdir()}); give the database server's OS user one.")
