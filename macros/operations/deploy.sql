{#- dbt run-operation dbt_learn.deploy --args '{model: churn_model, version: 3}'
    Make a trained version the one ml_score uses (scores change on their next dbt run). -#}
{% macro deploy(model, version, reason=none) -%}
  {%- set relation = dbt_learn.ml_model_relation(model) -%}
  {%- set answer = dbt_learn.call_runtime("select dbt_learn.deploy(%s, %s, %s, 'manual', %s)::text",
      [relation.schema, relation.identifier, version, reason or 'deployed by dbt run-operation']) -%}
  {% do adapter.commit() %}
  {{ log("dbt_learn: " ~ model ~ " now serves v" ~ answer.deployed_version ~ " (was v"
         ~ answer.previous_version ~ ")", info=True) }}
  {{ return(answer) }}
{%- endmacro %}
