{#- The registry row ml_score scores with: the pinned version, else the deployed one (the newest when the model has
    never been deployed). -#}
{% macro trained_version(model, version=none) -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select v.version, v.task, v.features::text, v.classes, v.target_type, v.id_columns,
              coalesce(v.predicts_probabilities, true),
              coalesce(v.preprocessing->'output_features', jsonb_path_query_array(v.features, '$[*].name'))::text
       from dbt_learn.model_versions as v
       where v.model_schema = %s and v.model_name = %s
         and v.version = coalesce(%s::int,
             (select d.version from dbt_learn.deployed_versions as d
              where d.model_schema = v.model_schema and d.model_name = v.model_name),
             (select max(w.version) from dbt_learn.model_versions as w
              where w.model_schema = v.model_schema and w.model_name = v.model_name))",
      [model.schema, model.identifier, version]) -%}
  {%- if not rows -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.identifier ~ "' (schema " ~ model.schema ~ ") has "
        ~ ("no version " ~ version if version is not none else "no trained version yet")
        ~ " in the registry. Train it first: dbt run -s " ~ model.identifier ~ " (or dbt build, which orders it).") }}
  {%- endif -%}
  {%- set row = rows[0] -%}
  {{ return({'version': row[0], 'task': row[1], 'features': fromjson(row[2]), 'classes': row[3],
             'target_type': row[4], 'id_columns': row[5] or [], 'predicts_probabilities': row[6],
             'model_features': fromjson(row[7])}) }}
{%- endmacro %}
