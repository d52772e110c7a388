{#- The registry row ml_score scores with: the version asked for, else the serving one (dbt_learn.serving_version).
    -#}
{% macro trained_version(model, version=none) -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select v.version, v.task, v.features::text, v.classes, v.target_type, v.id_columns,
              coalesce(v.predicts_probabilities, true),
              coalesce(v.preprocessing->'output_features', jsonb_path_query_array(v.features, '$[*].name'))::text
       from dbt_learn.model_versions as v
       where v.model_schema = %s and v.model_name = %s
         and v.schema_oid = (select n.oid from pg_catalog.pg_namespace as n where n.nspname = v.model_schema)
         and v.version = coalesce(%s::int, dbt_learn.serving_version(%s, %s))",
      [model.schema, model.identifier, version, model.schema, model.identifier]) -%}
  {%- if not rows -%}
    {#- Versions trained in an earlier schema of this name (dropped, created again) never score in this one. -#}
    {%- set identity = dbt_learn.fetch_rows("select dbt_learn.schema_identity_error(%s, %s)",
                                            [model.schema, model.identifier]) -%}
    {%- if identity and identity[0][0] -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ identity[0][0]) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.identifier ~ "' (schema " ~ model.schema ~ ") has "
        ~ ("no version " ~ version if version is not none else "no trained version yet")
        ~ " in the registry. Train it first: dbt run -s " ~ model.identifier ~ " (or dbt build, which orders it).") }}
  {%- endif -%}
  {%- set row = rows[0] -%}
  {{ return({'version': row[0], 'task': row[1], 'features': fromjson(row[2]), 'classes': row[3],
             'target_type': row[4], 'id_columns': row[5] or [], 'predicts_probabilities': row[6],
             'model_features': fromjson(row[7])}) }}
{%- endmacro %}
