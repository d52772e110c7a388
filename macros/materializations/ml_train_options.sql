{#- Reading rule: every dbt_learn option of a model lives under `meta` (config(meta={...}) in SQL, dbt.config(meta=
    {...}) in Python, `meta:` under `config:` in yml, `+meta:` in dbt_project.yml). dbt documents meta as the home of
    custom keys from 1.10 on, so dbt never warns about them; the same key at the top level is refused with a hint. -#}
{% macro ml_train_options(model) -%}
  {%- set meta = config.get('meta') or {} -%}
  {%- set defaults = {
      'target': none,
      'algorithm': none,
      'params': {},
      'features': none,
      'id_columns': [],
      'exclude_columns': [],
      'random_state': dbt_learn.get_config('dbt_learn_random_state'),
      'holdout_size': dbt_learn.get_config('dbt_learn_holdout_size'),
      'refit': dbt_learn.get_config('dbt_learn_refit'),
      'threads_per_model': dbt_learn.get_config('dbt_learn_threads_per_model'),
      'split': 'auto',
      'split_column': none,
      'cv_folds': 0,
      'retrain_policy': dbt_learn.get_config('dbt_learn_retrain_policy'),
      'retrain_interval': none,
      'retrain_on': none,
      'deploy_strategy': 'most_recent',
      'deploy_metric': none,
      'deploy_direction': none,
      'deploy_version': none,
      'task': none,
      'preprocessing': 'auto',
      'threshold': none,
      'search': none,
      'importances': true,
      'user_column': none,
      'item_column': none,
      'rating_column': none,
      'top_k': 10,
      'sample': none,
      'partial_fit': none,
  } -%}
  {%- set options = {} -%}
  {%- for key, default in defaults.items() -%}
    {%- if model.config.get(key) is not none and key not in meta -%}
      {{ exceptions.raise_compiler_error(
          "dbt_learn: model '" ~ model.name ~ "' sets '" ~ key ~ "' at the top level of its config; dbt_learn reads "
          ~ "its options from meta: config(meta={'" ~ key ~ "': ...}).") }}
    {%- endif -%}
    {%- do options.update({key: meta.get(key, default)}) -%}
  {%- endfor -%}
  {%- for key in ['id_columns', 'exclude_columns'] -%}
    {%- if options[key] is string -%}
      {%- do options.update({key: [options[key]]}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if options.params is not mapping -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': meta.params must be a mapping of "
                                       ~ "hyperparameter names to values, got " ~ options.params) }}
  {%- endif -%}
  {%- if options.holdout_size is not number or options.holdout_size < 0 or options.holdout_size >= 1 -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': meta.holdout_size must be a "
                                       ~ "fraction in [0, 1), got " ~ options.holdout_size) }}
  {%- endif -%}
  {%- if options.split == 'time' and not options.split_column -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': meta.split 'time' needs "
                                       ~ "meta.split_column, the column that orders rows in time.") }}
  {%- endif -%}
  {%- if options.retrain_policy == 'interval' and not options.retrain_interval -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': meta.retrain_policy 'interval' needs "
                                       ~ "meta.retrain_interval, e.g. '7 days'.") }}
  {%- endif -%}
  {%- if options.sample is not none -%}
    {%- set sample = options.sample -%}
    {%- set usage = "meta.sample takes {rows: <positive integer>} or {fraction: <number in (0, 1]>}, and optionally "
                    ~ "seed: <integer> (default 0)" -%}
    {%- if sample is not mapping or (sample.keys() | reject('in', ['rows', 'fraction', 'seed']) | list)
           or (('rows' in sample) == ('fraction' in sample)) -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': " ~ usage ~ "; got " ~ sample) }}
    {%- endif -%}
    {%- if ('rows' in sample and (sample.rows is not integer or sample.rows < 1))
           or ('fraction' in sample and (sample.fraction is not number or sample.fraction is boolean
                                         or sample.fraction <= 0 or sample.fraction > 1))
           or ('seed' in sample and sample.seed is not integer) -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': " ~ usage ~ "; got " ~ sample) }}
    {%- endif -%}
  {%- endif -%}
  {%- if options.partial_fit is not none and options.partial_fit is not false -%}
    {%- do options.update({'partial_fit': dbt_learn.partial_fit_options(model, options)}) -%}
  {%- else -%}
    {%- do options.update({'partial_fit': none}) -%}
  {%- endif -%}
  {%- do options.update({'retrain_on': dbt_learn.retrain_rules(model, options.retrain_on)}) -%}
  {{ return(options) }}
{%- endmacro %}
