{#- Fits an estimator inside Postgres and registers it as a new version; the model's own relation is a view of the
    model's versions in the registry (so deploys and rollbacks show at once), built like dbt's view materialization
    (intermediate relation, rename swap). Fitting runs and commits before the swap, so a failed fit leaves the
    deployed version and the relation untouched. The swap runs under the model's lock (dbt_learn.lock_model) and
    reads what exists from the catalog, not from dbt's relation cache, which another dbt process running the same
    model makes stale: concurrent runs of one model swap one after the other and leave no __dbt_tmp/__dbt_backup. -#}
{% materialization ml_train, adapter='postgres', supported_languages=['sql', 'python'] %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}

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

  {#- The swap, under the model's lock: concurrent runs of one model swap one after the other. -#}
  {% do dbt_learn.locked_swap(target_relation, intermediate_relation, make_backup_relation(target_relation, 'view'),
                              get_create_view_as_sql(intermediate_relation,
                                                     dbt_learn.model_versions_sql(target_relation)), 'view') %}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
