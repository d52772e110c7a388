{#- meta.partial_fit, checked at compile time: true, or {epochs: <integer >= 1, default 1>, seed: <integer>}; the
    seed defaults to meta.random_state (else 0). Returns {epochs, seed}. Refuses what partial_fit cannot be combined
    with: meta.sample, meta.search, meta.cv_folds, meta.task 'recommendation', meta.split 'time', and dbt Python
    models (their code reads its rows with dbt.ref() in memory). Whether the algorithm has partial_fit is checked
    when training starts. -#}
{% macro partial_fit_options(model, options) -%}
  {%- set value = options.partial_fit -%}
  {%- set usage = "meta.partial_fit takes true, or {epochs: <integer >= 1, default 1>, seed: <integer, optional>}" -%}
  {%- set prefix = "dbt_learn: model '" ~ model.name ~ "': " -%}
  {%- if value is sameas true -%}
    {%- set value = {} -%}
  {%- endif -%}
  {%- if value is not mapping or (value.keys() | reject('in', ['epochs', 'seed']) | list)
         or ('epochs' in value and (value.epochs is not integer or value.epochs is boolean or value.epochs < 1))
         or ('seed' in value and (value.seed is not integer or value.seed is boolean)) -%}
    {{ exceptions.raise_compiler_error(prefix ~ usage ~ "; got " ~ options.partial_fit) }}
  {%- endif -%}
  {%- if model.language == 'python' -%}
    {{ exceptions.raise_compiler_error(prefix ~ "meta.partial_fit applies to SQL ml_train models; a Python model "
        ~ "reads its rows with dbt.ref() in memory. Write the training view as an SQL ml_train model with "
        ~ "meta.algorithm, or drop meta.partial_fit.") }}
  {%- endif -%}
  {%- set refused = [
      ('sample', options.sample is not none,
       "meta.partial_fit already trains on every row; drop meta.sample, or drop meta.partial_fit to train on the "
       ~ "sample in memory"),
      ('search', options.search is not none,
       "a hyperparameter search fits many candidates in memory; drop meta.search, or search on a meta.sample "
       ~ "without meta.partial_fit"),
      ('cv_folds', options.cv_folds, "cross-validation refits in memory; set meta.cv_folds to 0"),
      ('task', options.task == 'recommendation', "a recommender trains on its ratings in memory; drop one of them"),
      ('split', options.split == 'time',
       "partial_fit holds out rows by a hash of their values, not the latest rows; use meta.split 'auto'"),
  ] -%}
  {%- for key, is_set, why in refused if is_set -%}
    {{ exceptions.raise_compiler_error(prefix ~ "meta.partial_fit cannot be combined with meta." ~ key ~ ": " ~ why
                                       ~ ".") }}
  {%- endfor -%}
  {%- set seed = value.get('seed', options.random_state if options.random_state is integer else 0) -%}
  {{ return({'epochs': value.get('epochs', 1), 'seed': seed}) }}
{%- endmacro %}
