{#- Whether this run trains, and why, decided before any data moves. --full-refresh and a retrain_on breach always
    train, whatever retrain_policy says; 'interval' skips while the newest version is younger than retrain_interval;
    'on_change' is left to the runtime, which compares fingerprints (and names what changed).
    Returns {'skip': why nothing is trained, or none; 'force': train even if on_change finds nothing changed;
    'reason': why a version is trained, or none when the runtime says}. -#}
{% macro retrain_decision(model, relation, options) -%}
  {%- set reasons = ['full refresh'] if should_full_refresh() else [] -%}
  {%- do reasons.extend(dbt_learn.monitor_breaches(model, relation, options.retrain_on)) -%}
  {%- if not reasons and options.retrain_policy == 'interval' -%}
    {%- set recent = dbt_learn.version_trained_within(relation, options.retrain_interval) -%}
    {%- if recent is not none -%}
      {{ return({'skip': 'v' ~ recent ~ ' was trained less than ' ~ options.retrain_interval ~ ' ago',
                 'force': false, 'reason': none}) }}
    {%- endif -%}
    {%- do reasons.append('retrain_policy interval: no version trained within ' ~ options.retrain_interval) -%}
  {%- elif not reasons and options.retrain_policy == 'always' -%}
    {%- do reasons.append('retrain_policy always') -%}
  {%- endif -%}
  {{ return({'skip': none, 'force': reasons | length > 0, 'reason': reasons | join('; ') if reasons else none}) }}
{%- endmacro %}
