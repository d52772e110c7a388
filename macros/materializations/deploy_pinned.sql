{#- When no training ran (retrain_policy 'interval'), only a pinned deployment has to be honoured; report what
    serves either way, in the shape the runtime reports deployments. -#}
{% macro deploy_pinned(relation, options) -%}
  {%- if options.deploy_strategy == 'pinned' -%}
    {%- do dbt_learn.call_runtime("select dbt_learn.deploy(%s, %s, %s, 'pinned', %s)::text",
        [relation.schema, relation.identifier, options.deploy_version, 'pinned by meta.deploy_version']) -%}
  {%- endif -%}
  {%- set serving = dbt_learn.fetch_rows(
      "select version from dbt_learn.deployed_versions where model_schema = %s and model_name = %s",
      [relation.schema, relation.identifier]) -%}
  {{ return({'deployed_version': serving[0][0] if serving else none, 'strategy': options.deploy_strategy,
             'reason': 'pinned by meta.deploy_version' if options.deploy_strategy == 'pinned' else 'no new version'}) }}
{%- endmacro %}
