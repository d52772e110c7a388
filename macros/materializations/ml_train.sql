{#- Fits an estimator inside Postgres and registers it as a new version; the model's own relation is a view of the
    model's versions in the registry (so deploys and rollbacks show at once), built like dbt's view materialization
    (intermediate relation, rename swap). Fitting runs and commits before the swap, so a failed fit leaves the
    deployed version and the relation untouched. -#}
{% materialization ml_train, adapter='postgres', supported_languages=['sql', 'python'] %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set preexisting_intermediate_relation = load_cached_relation(intermediate_relation) -%}
  {%- set backup_relation_type = 'view' if existing_relation is none else existing_relation.type -%}
  {%- set backup_relation = make_backup_relation(target_relation, backup_relation_type) -%}
  {%- set preexisting_backup_relation = load_cached_relation(backup_relation) -%}
  {{ drop_relation_if_exists(preexisting_intermediate_relation) }}
  {{ drop_relation_if_exists(preexisting_backup_relation) }}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% do dbt_learn.check_runtime() %}
  {%- set options = dbt_learn.ml_train_options(model) -%}
  {#- retrain_on monitors, --full-refresh and the retrain policy, read before any data moves. -#}
  {%- set retrain = dbt_learn.retrain_decision(model, this, options) -%}
  {%- if retrain.skip -%}
    {#- No training: the runtime still honours a pinned deployment. -#}
    {%- set trained = {'skipped': true, 'deployment': dbt_learn.keep_serving(this, options),
                       'reason': retrain.skip} -%}
  {%- elif model.language == 'python' -%}
    {%- set trained = dbt_learn.train_python_model(model, options, compiled_code, retrain) -%}
  {%- elif options.task == 'recommendation' -%}
    {%- set trained = dbt_learn.train_recommender(model, options, sql, retrain) -%}
  {%- else -%}
    {%- set trained = dbt_learn.train_sql_model(model, options, sql, retrain) -%}
  {%- endif -%}
  {%- set trained = dbt_learn.continue_training(model, trained) -%}
  {% do adapter.commit() %}
  {{ log(dbt_learn.describe_training(model, trained), info=True) }}

  {% call statement('main') -%}
    {{ get_create_view_as_sql(intermediate_relation, dbt_learn.model_versions_sql(target_relation)) }}
  {%- endcall %}
  {% if existing_relation is not none %}
    {% set existing_relation = load_cached_relation(existing_relation) %}
    {% if existing_relation is not none %}
      {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
  {% endif %}
  {{ adapter.rename_relation(intermediate_relation, target_relation) }}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ drop_relation_if_exists(backup_relation) }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
