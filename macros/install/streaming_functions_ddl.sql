{#- The functions of streaming scoring (ml_score): dbt_learn.score_relation reads the caller's query through a cursor
    with the caller's privileges (SECURITY INVOKER) and scores it chunk by chunk; the SECURITY DEFINER helpers it
    calls check the model's privilege and load it, and keep the predictions in a temporary table that only they
    create and fill; dbt_learn.read_scores returns that table's rows, one row of arrays per chunk. -#}
{% macro streaming_functions_ddl() -%}
  {{ return(adapter.dispatch('streaming_functions_ddl', 'dbt_learn')()) }}
{%- endmacro %}

{% macro default__streaming_functions_ddl() -%}
  {{ exceptions.raise_compiler_error("dbt_learn: scoring runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__streaming_functions_ddl() -%}
{%- set definer = "language plpython3u security definer set search_path = pg_catalog, pg_temp" -%}
create or replace function dbt_learn.scoring_table(id_types oid[]) returns text {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.scoring_table(plpy, id_types)
$dbt_learn$;

create or replace function dbt_learn.load_scoring_model(
    model_schema text, model_name text, model_version integer
) returns void {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
runtime.load_scoring_model(plpy, model_schema, model_name, model_version)
$dbt_learn$;

create or replace function dbt_learn.append_scores(scores text, payload bytea) returns void {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
runtime.append_scores(plpy, scores, payload)
$dbt_learn$;

{#- SECURITY INVOKER: the queries are the caller's own (ml_score compiles them), so they run with the caller's
    rights. STABLE: every chunk's query reads the snapshot of the statement that scores. -#}
create or replace function dbt_learn.score_relation(
    model_schema text, model_name text, model_version integer, query text, chunk_query text, relation text,
    id_types oid[], id_widths integer[], options jsonb
) returns text language plpython3u stable security invoker set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.score_relation(plpy, model_schema, model_name, model_version, query, chunk_query, relation,
                              id_types, id_widths, options)
$dbt_learn$;

{#- One row of arrays per chunk; the caller names the columns (ml_score knows the id types). The arrays stay TOASTed
    in the temporary table, so the rows only point at them. -#}
create or replace function dbt_learn.read_scores(scores text) returns setof record
language plpgsql security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
begin
    if scores !~ '^dbt_learn_scores_[0-9]+_[0-9]+$' or not exists (
        select from pg_class c
        where c.oid = to_regclass('pg_temp.' || quote_ident(scores)) and c.relkind = 'r'
          and c.relowner = (select r.oid from pg_roles r where r.rolname = current_user)) then
        raise exception 'dbt_learn: % is not a scoring table of this session', scores;
    end if;
    return query execute format('select * from pg_temp.%I', scores);
end
$dbt_learn$;
revoke all on function dbt_learn.scoring_table(oid[]), dbt_learn.load_scoring_model(text, text, integer),
    dbt_learn.append_scores(text, bytea), dbt_learn.read_scores(text),
    dbt_learn.score_relation(text, text, integer, text, text, text, oid[], integer[], jsonb) from public;
{%- endmacro %}

{% macro streaming_grants_ddl(role_sql) -%}
  {{ return(adapter.dispatch('streaming_grants_ddl', 'dbt_learn')(role_sql)) }}
{%- endmacro %}

{% macro default__streaming_grants_ddl(role_sql) -%}
  {{ exceptions.raise_compiler_error("dbt_learn: scoring runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__streaming_grants_ddl(role_sql) -%}
grant execute on function dbt_learn.scoring_table(oid[]), dbt_learn.load_scoring_model(text, text, integer),
    dbt_learn.append_scores(text, bytea), dbt_learn.read_scores(text),
    dbt_learn.score_relation(text, text, integer, text, text, text, oid[], integer[], jsonb) to {{ role_sql }};
{%- endmacro %}
