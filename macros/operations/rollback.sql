{#- dbt run-operation dbt_learn.rollback --args '{model: churn_model}'
    Deploy the version before the serving one; the next dbt run of the scores reproduces its predictions exactly. -#}
{% macro rollback(model, reason=none) -%}
  {%- set relation = dbt_learn.ml_model_relation(model) -%}
  {%- set answer = dbt_learn.call_runtime("select dbt_learn.rollback(%s, %s, %s)::text",
      [relation.schema, relation.identifier, reason]) -%}
  {% do adapter.commit() %}
  {{ log("dbt_learn: rolled " ~ model ~ " back from v" ~ answer.previous_version ~ " to v"
         ~ answer.deployed_version, info=True) }}
  {{ return(answer) }}
{%- endmacro %}
