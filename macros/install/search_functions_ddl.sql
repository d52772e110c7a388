{#- The function the materialization calls to continue a hyperparameter search (meta.search) that a training call
    started in the same session; see macro continue_training. -#}
{% macro search_functions_ddl() -%}
  {{ return(adapter.dispatch('search_functions_ddl', 'dbt_learn')()) }}
{%- endmacro %}

{% macro default__search_functions_ddl() -%}
  {{ exceptions.raise_compiler_error("dbt_learn: hyperparameter search runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__search_functions_ddl() -%}
create or replace function dbt_learn.train_continue(token text) returns jsonb
language plpython3u security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_continue(plpy, token)
$dbt_learn$;
revoke all on function dbt_learn.train_continue(text) from public;
{%- endmacro %}

{% macro search_grants_ddl(role_sql) -%}
  {{ return(adapter.dispatch('search_grants_ddl', 'dbt_learn')(role_sql)) }}
{%- endmacro %}

{% macro default__search_grants_ddl(role_sql) -%}
  {{ exceptions.raise_compiler_error("dbt_learn: hyperparameter search runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__search_grants_ddl(role_sql) -%}
grant execute on function dbt_learn.train_continue(text) to {{ role_sql }};
{%- endmacro %}
