{#- The relation of an ml_train model of this project, by name, for run-operations (deploy, rollback, purge). -#}
{% macro ml_model_relation(model_name) -%}
  {%- for node in graph.nodes.values() -%}
    {%- if node.resource_type == 'model' and node.name == model_name -%}
      {%- if node.config.materialized != 'ml_train' -%}
        {{ exceptions.raise_compiler_error("dbt_learn: '" ~ model_name ~ "' is materialized as '"
            ~ node.config.materialized ~ "', not ml_train.") }}
      {%- endif -%}
      {{ return(api.Relation.create(database=node.database, schema=node.schema, identifier=node.alias)) }}
    {%- endif -%}
  {%- endfor -%}
  {{ exceptions.raise_compiler_error("dbt_learn: no model named '" ~ model_name ~ "' in this project.") }}
{%- endmacro %}
