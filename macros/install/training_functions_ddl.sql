{#- The functions that train SQL ml_train models: dbt_learn.train_query reads the caller's training query through a
    cursor with the caller's privileges (SECURITY INVOKER) and keeps the rows in this backend's memory; the
    SECURITY DEFINER dbt_learn.train_staged it then calls fits on them, registers and deploys (it refuses to run
    when train_query read nothing in this session). With meta.partial_fit, train_query fits in chunks itself, still
    with the caller's privileges, and train_staged registers the fitted model (python_models/dbt_learn/_partial_fit.py).
    -#}
{% macro training_functions_ddl() -%}
  {{ return(adapter.dispatch('training_functions_ddl', 'dbt_learn')()) }}
{%- endmacro %}

{% macro default__training_functions_ddl() -%}
  {{ exceptions.raise_compiler_error("dbt_learn: training runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__training_functions_ddl() -%}
{#- SECURITY INVOKER: the query is the caller's own (the training_batch_sql of its ml_train model). -#}
create or replace function dbt_learn.train_query(
    model_schema text, model_name text, spec jsonb, query text
) returns jsonb language plpython3u security invoker set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_query(plpy, model_schema, model_name, spec, query)
$dbt_learn$;

create or replace function dbt_learn.train_staged(
    model_schema text, model_name text, spec jsonb
) returns jsonb language plpython3u security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_staged(plpy, model_schema, model_name, spec)
$dbt_learn$;
revoke all on function dbt_learn.train_query(text, text, jsonb, text),
    dbt_learn.train_staged(text, text, jsonb) from public;
{%- endmacro %}

{% macro training_grants_ddl(role_sql) -%}
  {{ return(adapter.dispatch('training_grants_ddl', 'dbt_learn')(role_sql)) }}
{%- endmacro %}

{% macro default__training_grants_ddl(role_sql) -%}
  {{ exceptions.raise_compiler_error("dbt_learn: training runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__training_grants_ddl(role_sql) -%}
grant execute on function dbt_learn.train_query(text, text, jsonb, text),
    dbt_learn.train_staged(text, text, jsonb) to {{ role_sql }};
{%- endmacro %}
