{#- Package-wide defaults in one place. Each can be overridden with a project var of the same name. -#}
{% macro get_config(key) -%}
  {%- set defaults = {
      'dbt_learn_holdout_size': 0.2,
      'dbt_learn_random_state': 0,
      'dbt_learn_refit': true,
      'dbt_learn_threads_per_model': none,
      'dbt_learn_retrain_policy': 'on_change',
      'dbt_learn_as_of': none,
      'dbt_learn_score_chunk_mb': 64,
      'dbt_learn_training_batch_mb': 1024,
      'dbt_learn_training_chunk_mb': 64,
  } -%}
  {%- if key not in defaults -%}
    {{ exceptions.raise_compiler_error("dbt_learn: unknown package setting '" ~ key ~ "'") }}
  {%- endif -%}
  {{ return(var(key, defaults[key])) }}
{%- endmacro %}
