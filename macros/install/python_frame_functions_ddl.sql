{#- The functions of python_table / python_incremental models (python_models/dbt_learn/_frame_entry.py):
    dbt_learn.python_frame runs the model's code with the caller's privileges (SECURITY INVOKER) and stages the
    DataFrame it returns in the backend; dbt_learn.python_frame_rows (SECURITY DEFINER: COPY from a server file needs
    pg_read_server_files) returns it as rows, which the caller's own CREATE TABLE AS or INSERT stores, so the table
    is the caller's. -#}
{% macro python_frame_functions_ddl() -%}
  {{ return(adapter.dispatch('python_frame_functions_ddl', 'dbt_learn')()) }}
{%- endmacro %}

{% macro default__python_frame_functions_ddl() -%}
  {{ exceptions.raise_compiler_error("dbt_learn: python_table models run in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__python_frame_functions_ddl() -%}
create or replace function dbt_learn.python_frame(
    model_schema text, model_name text, code text, filename text, options jsonb
) returns jsonb language plpython3u security invoker set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.python_frame(plpy, model_schema, model_name, code, filename, options)
$dbt_learn$;

create or replace function dbt_learn.python_frame_into_temp(token integer) returns text
language plpython3u security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.python_frame_into_temp(plpy, token)
$dbt_learn$;

{#- The caller names the columns and their types (the ones python_frame returned) after the call:
    select * from dbt_learn.python_frame_rows(token) as f("a" bigint, ...). -#}
create or replace function dbt_learn.python_frame_rows(token integer) returns setof record
language plpgsql security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
begin
    return query execute format('select * from pg_temp.%I', dbt_learn.python_frame_into_temp(token));
end
$dbt_learn$;
revoke all on function dbt_learn.python_frame(text, text, text, text, jsonb),
    dbt_learn.python_frame_into_temp(integer), dbt_learn.python_frame_rows(integer) from public;
{%- endmacro %}

{% macro python_frame_grants_ddl(role_sql, allow_python_models) -%}
  {{ return(adapter.dispatch('python_frame_grants_ddl', 'dbt_learn')(role_sql, allow_python_models)) }}
{%- endmacro %}

{% macro default__python_frame_grants_ddl(role_sql, allow_python_models) -%}
  {{ exceptions.raise_compiler_error("dbt_learn: python_table models run in PL/Python: Postgres only.") }}
{%- endmacro %}

{#- Like dbt_learn.train_python: only when the install allows Python models (running Python in the server is as
    powerful as the server's OS user; see docs/security.md). -#}
{% macro postgres__python_frame_grants_ddl(role_sql, allow_python_models) -%}
{% if allow_python_models -%}
grant execute on function dbt_learn.python_frame(text, text, text, text, jsonb),
    dbt_learn.python_frame_rows(integer) to {{ role_sql }};
{%- else -%}
revoke execute on function dbt_learn.python_frame(text, text, text, text, jsonb),
    dbt_learn.python_frame_rows(integer) from {{ role_sql }};
{%- endif %}
{%- endmacro %}
