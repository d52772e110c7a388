"""The temporary tables of streaming scoring (see _streaming): the SECURITY DEFINER side that creates, fills and
checks them, and the binary COPY row one chunk becomes."""

import os

import numpy as np

from . import registry
from ._entry_support import user_errors
from ._server_io import copy_into
from .errors import ScoringError
from .scoring import _COPY_HEADER, _COPY_TRAILER, output_fields

_SCORES_PREFIX = "dbt_learn_scores_"
_tables = 0


def scores_payload(n_rows, outputs, ids, id_types):
    """One binary COPY row for the table ``scoring_table`` makes: ``(n_rows int8, prediction float8[], class_index
    int4[], probabilities float8[], contribution_feature int4[], contribution float8[], id_1 <type>[], ...)``.

    ``ids`` holds per id column the rows' elements in binary array element form (int4 length, then the type's send
    bytes; length -1 alone for NULL).
    """
    fields = [np.array([8], ">i4").tobytes() + np.array([n_rows], ">i8").tobytes(), *output_fields(n_rows, *outputs)]
    for elements, type_oid in zip(ids, id_types):
        header = np.array([20 + len(elements), 1, 0, type_oid, n_rows, 1], ">i4").tobytes()
        fields.append(header + elements)
    return _COPY_HEADER + np.array(len(fields), ">i2").tobytes() + b"".join(fields) + _COPY_TRAILER


# SECURITY DEFINER side: the temporary tables this runtime creates and fills. Their names are checked against the
# backend's own set, and Postgres checks ownership, so a caller cannot point these functions at a table of theirs.
_own_tables = set()


def scoring_table(plpy, id_types):
    """Create the temporary table of one scoring run (dropped at commit); returns its name."""
    global _tables
    _tables += 1
    table = f"{_SCORES_PREFIX}{os.getpid()}_{_tables}"
    ids = ""
    for i, type_oid in enumerate(id_types or [], 1):
        type_name = plpy.execute(registry._plan(plpy, "select format_type($1, null) as t", ["oid"]), [type_oid])[0]["t"]
        if type_name is None or type_name == "???":
            raise ScoringError(f"dbt_learn: unknown id column type oid {type_oid}")
        ids += f", id_{i} {type_name}[]"
    plpy.execute(f"create temporary table {plpy.quote_ident(table)} (n_rows int8, prediction float8[], "
                 f"class_index int4[], probabilities float8[], contribution_feature int4[], contribution float8[]"
                 f"{ids}) on commit drop")
    _own_tables.add(table)
    return table


def append_scores(plpy, table, payload):
    """COPY one chunk's row into a table ``scoring_table`` made in this backend."""
    with user_errors(plpy):
        check_own_table(plpy, table)
        copy_into(plpy, table, payload)


def check_own_table(plpy, table):
    """Refuse any table but a live one ``scoring_table`` made: a name from an earlier transaction could have been
    taken by a caller's own temporary table, whose triggers would run with this function's owner's rights."""
    owned = table in _own_tables and plpy.execute(registry._plan(
        plpy, "select c.relowner = (select r.oid from pg_roles r where r.rolname = current_user) and c.relkind = 'r' "
        "as ok from pg_class c where c.oid = to_regclass('pg_temp.' || quote_ident($1))", ["text"]), [table])
    if not owned or not owned[0]["ok"]:
        raise ScoringError(f"dbt_learn: {table!r} is not a scoring table of this session.")


def load_scoring_model(plpy, model_schema, model_name, version):
    """Check the caller may score with the model and cache the estimator for ``score_relation``."""
    with user_errors(plpy):
        registry.load_version(plpy, model_schema, model_name, version)
