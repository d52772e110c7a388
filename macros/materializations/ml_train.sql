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

  {#- The swap, as ONE multi-statement query: Postgres runs it as one transaction even when the connection is not
      in one (after dbt's first COMMIT, dbt-postgres sends no BEGIN), so the lock is held from its first statement
      to its last. What exists is read from the catalog (a leftover of an interrupted run before this one, and the
      kind of the current relation), never from dbt's relation cache; the drops and renames use IF EXISTS, so
      what another run did meanwhile cannot fail them. -#}
  {%- set backup_name = make_backup_relation(target_relation, 'view').identifier -%}
  {%- set kinds = {} -%}
  {%- for row in dbt_learn.fetch_rows(
      "select c.relname::text, case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
       else 'table' end
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = %s and c.relname in (%s, %s, %s) and c.relkind in ('r', 'p', 'v', 'm', 'f')",
      [this.schema, target_relation.identifier, intermediate_relation.identifier, backup_name]) -%}
    {%- do kinds.update({row[0]: row[1]}) -%}
  {%- endfor -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'view') -%}
  {%- set current_kind = kinds.get(target_relation.identifier, 'view') -%}
  {% call statement('main') -%}
    select dbt_learn.lock_model({{ dbt_learn.sql_string_literal(this.schema) }},
                                {{ dbt_learn.sql_string_literal(this.identifier) }});
    drop {{ kinds.get(intermediate_relation.identifier, 'view') }} if exists {{ intermediate_relation }} cascade;
    drop {{ kinds.get(backup_name, 'view') }} if exists {{ backup_relation }} cascade;
    {{ get_create_view_as_sql(intermediate_relation, dbt_learn.model_versions_sql(target_relation)) }};
    alter {{ current_kind }} if exists {{ target_relation }}
        rename to {{ dbt_learn.quote_identifier(backup_relation.identifier) }};
    alter view {{ intermediate_relation }} rename to {{ dbt_learn.quote_identifier(target_relation.identifier) }};
    drop {{ current_kind }} if exists {{ backup_relation }} cascade
  {%- endcall %}
  {%- for relation in [intermediate_relation, backup_relation, target_relation] -%}
    {%- do adapter.cache_dropped(relation) -%}  {#- dbt's materialization runner adds the target back -#}
  {%- endfor -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
