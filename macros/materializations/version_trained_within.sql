{#- retrain_policy 'interval': the newest version if it was trained within the interval, else none. -#}
{% macro version_trained_within(relation, interval) -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select max(version) from dbt_learn.model_versions
       where model_schema = %s and model_name = %s and trained_at > now() - %s::interval",
      [relation.schema, relation.identifier, interval]) -%}
  {{ return(rows[0][0]) }}
{%- endmacro %}
