{#- The recommendation functions (meta.task 'recommendation'): PL/Python SECURITY DEFINER like the others
    (functions_ddl), loading python_models/dbt_learn/_recommend_entry.py. Each checks the caller's privilege on the
    model's schema through the registry module, as the training and scoring functions do. -#}
{% macro recommend_functions_ddl() -%}
{%- set definer = "language plpython3u security definer set search_path = pg_catalog, pg_temp" -%}
{#- users / items: text in the wire form of text_bytes_sql; ratings: float8 per row (NULL when implicit). -#}
create or replace function dbt_learn.train_recommender(
    model_schema text, model_name text, spec jsonb, n_rows bigint, users bytea, items bytea, ratings bytea
) returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_recommender(plpy, model_schema, model_name, spec, n_rows, users, items, ratings)
$dbt_learn$;

create or replace function dbt_learn.recommend_into_temp(
    model_schema text, model_name text, model_version integer, n_users bigint, users bytea, k integer, options jsonb
) returns text {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.recommend_into_temp(plpy, model_schema, model_name, model_version, n_users, users, k, options)
$dbt_learn$;

{#- Batch: one row of arrays (ml_recommend zips them with unnest); user_position numbers the batch's users from 1.
    k NULL: the model's meta.top_k. options: exclude_seen (default true), cold_start 'popular' | 'none'. -#}
create or replace function dbt_learn.recommend_batch(
    model_schema text, model_name text, model_version integer, n_users bigint, users bytea, k integer,
    options jsonb default '{}'
) returns table (user_position integer[], item text[], rank integer[], score double precision[])
language plpgsql security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
declare
    recommended text;
begin
    recommended := dbt_learn.recommend_into_temp(model_schema, model_name, model_version, n_users, users, k,
                                                 options);
    -- The arrays are TOASTed in the temporary table (ON COMMIT DROP), so it must outlive this call.
    return query execute format('select * from pg_temp.%I', recommended);
end
$dbt_learn$;

{#- Row level, with the serving version (cached per backend): one user's top-k unseen items, best first; a user
    the model has never seen gets the most popular items. Not PARALLEL SAFE (see dbt_learn.predict). -#}
create or replace function dbt_learn.recommend(
    model_schema text, model_name text, user_value text, k integer default 10
) returns table (item text, rank integer, score double precision) {{ definer }} stable as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.recommend(plpy, model_schema, model_name, user_value, k)
$dbt_learn$;
{%- endmacro %}

{% macro recommend_grants_ddl(role_sql) -%}
revoke all on function dbt_learn.train_recommender(text, text, jsonb, bigint, bytea, bytea, bytea),
    dbt_learn.recommend_into_temp(text, text, integer, bigint, bytea, integer, jsonb),
    dbt_learn.recommend_batch(text, text, integer, bigint, bytea, integer, jsonb),
    dbt_learn.recommend(text, text, text, integer) from public;
grant execute on function dbt_learn.train_recommender(text, text, jsonb, bigint, bytea, bytea, bytea),
    dbt_learn.recommend_batch(text, text, integer, bigint, bytea, integer, jsonb),
    dbt_learn.recommend(text, text, text, integer) to {{ role_sql }};
{%- endmacro %}
