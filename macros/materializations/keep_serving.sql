{#- The deployment of a run whose retrain policy trained nothing (retrain_policy 'interval'): the runtime decides it
    (dbt_learn.keep_serving, the same rule as an on_change run on unchanged data) and reports what serves. -#}
{% macro keep_serving(relation, options) -%}
  {{ return(dbt_learn.call_runtime(
      "select dbt_learn.keep_serving(%s, %s, %s::jsonb)::text",
      [relation.schema, relation.identifier,
       tojson({'deploy_strategy': options.deploy_strategy, 'deploy_version': options.deploy_version})])) }}
{%- endmacro %}
