{#- The rows of an ml_train model's own relation: its versions from the registry, the newest and the serving one
    marked. -#}
{% macro model_versions_sql(relation) -%}
select
    v.model_name,
    v.version,
    v.version = max(v.version) over () as is_latest,
    v.version = s.version as is_deployed,
    v.trained_at,
    v.training_reason,
    v.task,
    v.algorithm,
    v.target_column,
    v.training_rows,
    v.holdout_rows,
    v.metrics,
    v.fit_seconds,
    v.data_fingerprint,
    v.config_fingerprint,
    v.artifact_sha256,
    v.dbt_invocation_id
from dbt_learn.model_versions as v
left join dbt_learn.serving_versions as s using (model_schema, model_name)
where v.model_schema = {{ dbt_learn.sql_string_literal(relation.schema) }}
  and v.model_name = {{ dbt_learn.sql_string_literal(relation.identifier) }}
{%- endmacro %}
