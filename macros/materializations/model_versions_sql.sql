{#- The rows of an ml_train model's own relation: its versions from the registry, newest marked. -#}
{% macro model_versions_sql(relation) -%}
select
    model_name,
    version,
    version = max(version) over () as is_latest,
    trained_at,
    task,
    algorithm,
    target_column,
    training_rows,
    holdout_rows,
    metrics,
    fit_seconds,
    artifact_sha256,
    dbt_invocation_id
from dbt_learn.model_versions
where model_schema = {{ dbt_learn.sql_string_literal(relation.schema) }}
  and model_name = {{ dbt_learn.sql_string_literal(relation.identifier) }}
{%- endmacro %}
