{#- The registry row ml_score scores with: the pinned version, or the newest one. -#}
{% macro trained_version(model, version=none) -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select version, task, features::text, classes, target_type, id_columns from dbt_learn.model_versions
       where model_schema = %s and model_name = %s and (%s::int is null or version = %s::int)
       order by version desc limit 1",
      [model.schema, model.identifier, version, version]) -%}
  {%- if not rows -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.identifier ~ "' (schema " ~ model.schema ~ ") has "
        ~ ("no version " ~ version if version is not none else "no trained version yet")
        ~ " in the registry. Train it first: dbt run -s " ~ model.identifier ~ " (or dbt build, which orders it).") }}
  {%- endif -%}
  {%- set row = rows[0] -%}
  {{ return({'version': row[0], 'task': row[1], 'features': fromjson(row[2]), 'classes': row[3],
             'target_type': row[4], 'id_columns': row[5] or []}) }}
{%- endmacro %}
