{#- dbt run-operation dbt_learn.purge_versions --args '{model: churn_model, keep_last: 5}'
    The one explicit way to delete history: drops all but the newest keep_last versions, never the deployed one. -#}
{% macro purge_versions(model, keep_last) -%}
  {%- set relation = dbt_learn.ml_model_relation(model) -%}
  {%- set answer = dbt_learn.call_runtime("select dbt_learn.purge_versions(%s, %s, %s)::text",
      [relation.schema, relation.identifier, keep_last]) -%}
  {% do adapter.commit() %}
  {{ log("dbt_learn: purged " ~ model ~ " versions " ~ (answer.purged_versions | join(', ') or 'none'), info=True) }}
  {{ return(answer) }}
{%- endmacro %}
