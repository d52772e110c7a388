{#- One-time install by a superuser (dbt run-operation dbt_learn.install --target admin --args '{...}'):
    creates the dbt_learn schema, the registry and the SECURITY DEFINER functions, records the runtime, revokes
    everything from PUBLIC and grants the dbt role what it needs. Idempotent; rerun it to upgrade. -#}
{% macro install(site_packages, dbt_role, allow_python_models=false, allowed_packages=['sklearn', 'xgboost', 'lightgbm'],
                 lock_wait_seconds=600, work_bounds={}) -%}
  {{ return(adapter.dispatch('install', 'dbt_learn')(site_packages, dbt_role, allow_python_models,
                                                    allowed_packages, lock_wait_seconds, work_bounds)) }}
{%- endmacro %}

{% macro postgres__install(site_packages, dbt_role, allow_python_models, allowed_packages,
                            lock_wait_seconds=600, work_bounds={}) -%}
  {#- work_bounds: upper bounds on n_estimators, max_iter, n_init and threads_per_model (docs/security.md,
      "Bounds on work"); the keys not given keep the runtime's defaults. -#}
  {%- set bound_names = ['n_estimators', 'max_iter', 'n_init', 'threads_per_model'] -%}
  {%- if work_bounds is not mapping -%}
    {{ exceptions.raise_compiler_error("dbt_learn.install: work_bounds must be a mapping such as "
        ~ "{'n_estimators': 5000, 'threads_per_model': 8}; got " ~ work_bounds ~ ".") }}
  {%- endif -%}
  {%- for name, bound in work_bounds.items() -%}
    {%- if name not in bound_names or bound is not number or bound is sameas true or bound is sameas false
           or bound < 1 or bound != bound | int -%}
      {{ exceptions.raise_compiler_error("dbt_learn.install: work_bounds." ~ name ~ " = " ~ bound ~ " is not "
          ~ "allowed; give positive whole numbers for " ~ bound_names | join(', ') ~ ".") }}
    {%- endif -%}
  {%- endfor -%}
  {%- if lock_wait_seconds is not number or lock_wait_seconds is sameas true or lock_wait_seconds is sameas false
         or lock_wait_seconds < 1 or lock_wait_seconds != lock_wait_seconds | int -%}
    {{ exceptions.raise_compiler_error("dbt_learn.install: lock_wait_seconds must be a positive whole number of "
        ~ "seconds (how long a run waits for another run of the same model); got " ~ lock_wait_seconds ~ ".") }}
  {%- endif -%}
  {%- set me = dbt_learn.fetch_rows(
      "select rolsuper from pg_roles where rolname = current_user", [])[0][0] -%}
  {%- if not me -%}
    {{ exceptions.raise_compiler_error(
        "dbt_learn.install must run as a superuser (PL/Python is an untrusted language); '" ~ target.user
        ~ "' is not one. Use an admin target: --target admin.") }}
  {%- endif -%}
  {%- set role = dbt_learn.fetch_rows("select rolname, rolsuper from pg_roles where rolname = %s", [dbt_role]) -%}
  {%- if not role -%}
    {{ exceptions.raise_compiler_error("dbt_learn.install: role '" ~ dbt_role ~ "' does not exist; create the dbt "
                                       ~ "role first (a LOGIN role without SUPERUSER).") }}
  {%- endif -%}
  {%- if role[0][1] -%}
    {{ log("dbt_learn.install: warning: role '" ~ dbt_role ~ "' is a superuser; dbt_learn is meant for a "
           ~ "non-superuser dbt role.", info=True) }}
  {%- endif -%}
  {%- set role_sql = dbt_learn.quote_identifier(dbt_role) -%}

  {% do run_query("create extension if not exists plpython3u") %}
  {% do run_query(dbt_learn.registry_ddl()) %}
  {% do run_query(dbt_learn.lock_functions_ddl()) %}
  {% do dbt_learn.fetch_rows(
      "insert into dbt_learn.installation (site_packages, allowed_packages, python_models_allowed)
       values (%s, %s, %s)
       on conflict (singleton) do update set site_packages = excluded.site_packages,
           allowed_packages = excluded.allowed_packages, python_models_allowed = excluded.python_models_allowed,
           runtime_version = null, installed_at = now(), installed_by = session_user",
      [site_packages, allowed_packages | list, allow_python_models]) %}
  {% do dbt_learn.fetch_rows("update dbt_learn.installation set lock_wait_seconds = %s",
                             [lock_wait_seconds | int]) %}
  {% do dbt_learn.fetch_rows("update dbt_learn.installation set work_bounds = %s::jsonb",
                             [tojson(work_bounds)]) %}
  {% do run_query(dbt_learn.functions_ddl()) %}
  {% do run_query(dbt_learn.lifecycle_functions_ddl()) %}
  {% do run_query(dbt_learn.catalog_functions_ddl()) %}
  {% do run_query(dbt_learn.recommend_functions_ddl()) %}
  {% do run_query(dbt_learn.search_functions_ddl()) %}
  {% do run_query(dbt_learn.streaming_functions_ddl()) %}
  {% do run_query(dbt_learn.training_functions_ddl()) %}
  {% do run_query(dbt_learn.python_frame_functions_ddl()) %}

  {#- Load the runtime now, in this session, so a wrong venv fails the install rather than the first dbt run. -#}
  {%- set info = fromjson(dbt_learn.fetch_rows("select dbt_learn.runtime_info()::text", [])[0][0]) -%}
  {%- if info.runtime_version != dbt_learn.runtime_version() -%}
    {{ exceptions.raise_compiler_error(
        "dbt_learn.install: the venv at " ~ site_packages ~ " has runtime " ~ info.runtime_version ~ " but this "
        ~ "dbt package needs " ~ dbt_learn.runtime_version() ~ "; pip install the matching dbt-learn-runtime there.") }}
  {%- endif -%}
  {% do dbt_learn.fetch_rows(
      "update dbt_learn.installation set runtime_version = %s, libraries = %s::jsonb",
      [info.runtime_version, tojson(info.libraries)]) %}
  {% do run_query("delete from dbt_learn.metric_definitions") %}
  {% do dbt_learn.fetch_rows(
      "insert into dbt_learn.metric_definitions (task, metric, position, higher_is_better, is_headline)
       select task, metric, position, higher_is_better, is_headline
       from jsonb_to_recordset(%s::jsonb)
           as m(task text, metric text, position integer, higher_is_better boolean, is_headline boolean)",
      [tojson(info.metrics)]) %}

  {% do run_query(dbt_learn.grants_ddl(role_sql, allow_python_models)) %}
  {% do run_query(dbt_learn.lock_grants_ddl(role_sql)) %}
  {% do run_query(dbt_learn.catalog_grants_ddl(role_sql)) %}
  {% do run_query(dbt_learn.recommend_grants_ddl(role_sql)) %}
  {% do run_query(dbt_learn.search_grants_ddl(role_sql)) %}
  {% do run_query(dbt_learn.streaming_grants_ddl(role_sql)) %}
  {% do run_query(dbt_learn.training_grants_ddl(role_sql)) %}
  {% do run_query(dbt_learn.python_frame_grants_ddl(role_sql, allow_python_models)) %}
  {% do adapter.commit() %}
  {{ log("dbt_learn.install: runtime " ~ info.runtime_version ~ " (scikit-learn "
         ~ info.libraries['scikit-learn'] ~ ", python " ~ info.libraries.python ~ ") installed from "
         ~ site_packages ~ "; granted to " ~ dbt_role ~ "; python models "
         ~ ("allowed" if allow_python_models else "not allowed"), info=True) }}
{%- endmacro %}

{% macro grants_ddl(role_sql, allow_python_models) -%}
revoke all on all functions in schema dbt_learn from public;
revoke all on all tables in schema dbt_learn from public;
revoke all on all sequences in schema dbt_learn from public;
grant usage on schema dbt_learn to {{ role_sql }};
grant select on dbt_learn.installation, dbt_learn.model_versions, dbt_learn.deployments,
    dbt_learn.deployed_versions, dbt_learn.serving_versions, dbt_learn.metric_definitions to {{ role_sql }};
grant execute on function dbt_learn.runtime_info(), dbt_learn.loaded_runtime_version(),
    dbt_learn.serving_version(text, text), dbt_learn.describe_algorithm(text, text, jsonb, integer),
    dbt_learn.predict_batch(text, text, integer, bigint, bytea, bytea[], jsonb),
    dbt_learn.predict(text, text, double precision[]), dbt_learn.predict_class(text, text, double precision[]),
    dbt_learn.predict_proba(text, text, double precision[]), dbt_learn.predict(text, text, jsonb),
    dbt_learn.predict_class(text, text, jsonb), dbt_learn.predict_proba(text, text, jsonb),
    dbt_learn.preprocess_row(text, text, jsonb),
    dbt_learn.deploy(text, text, integer, text, text), dbt_learn.keep_serving(text, text, jsonb),
    dbt_learn.rollback(text, text, text), dbt_learn.schema_identity_error(text, text),
    dbt_learn.purge_versions(text, text, integer) to {{ role_sql }};
{% if allow_python_models -%}
grant execute on function dbt_learn.train_python(text, text, jsonb, text, text) to {{ role_sql }};
{%- else -%}
revoke execute on function dbt_learn.train_python(text, text, jsonb, text, text) from {{ role_sql }};
{%- endif %}
{%- endmacro %}
