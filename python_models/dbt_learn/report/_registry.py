"""What the report reads from the registry: every version's metadata and stored aggregates (never the rows)."""

_VERSIONS = """
select v.model_schema, v.model_name, v.version, v.trained_at, v.task, v.algorithm, v.language, v.training_rows,
       v.holdout_rows, v.metrics, v.feature_importances, v.diagnostics, v.training_reason, v.dbt_unique_id,
       coalesce(s.version = v.version, false) as serving
from dbt_learn.model_versions as v
left join dbt_learn.serving_versions as s on s.model_schema = v.model_schema and s.model_name = v.model_name
where (%(schema)s::text is null or v.model_schema = %(schema)s)
  and (%(models)s::text[] is null or v.model_name = any(%(models)s::text[]))
order by v.model_schema, v.model_name, v.version
"""


def rows(conn, query, params=None):
    """The rows of a query as dicts."""
    with conn.cursor() as cursor:
        cursor.execute(query, params)
        names = [d.name for d in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]


def versions(conn, schema=None, models=None):
    """Every version (optionally of one schema and/or some models): {(schema, name): [version rows, oldest
    first]}."""
    grouped = {}
    for row in rows(conn, _VERSIONS, {"schema": schema, "models": list(models) if models else None}):
        grouped.setdefault((row["model_schema"], row["model_name"]), []).append(row)
    return grouped
