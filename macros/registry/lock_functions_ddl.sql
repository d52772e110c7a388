{#- The one per-model lock: training (from the on_change skip check to the registration), the relation swap of
    ml_train and python_table, deploy, rollback and purge of a model never interleave. A row lock on dbt_learn.model_locks, a table
    only the install's owner can read or write, so no other role can take it or hold it hostage (an advisory lock's
    key shows in pg_locks to every role, which could then take it itself); only a role that may change the model
    (CREATE on its schema, as dbt_learn.may_change_model) may call it; waiting is bounded by
    dbt_learn.installation.lock_wait_seconds (install argument, default 600). Held until the transaction ends;
    re-entrant within it. -#}
{% macro lock_functions_ddl() -%}
create table if not exists dbt_learn.model_locks (
    model_schema text not null,
    model_name text not null,
    primary key (model_schema, model_name)
);
revoke all on dbt_learn.model_locks from public;

create or replace function dbt_learn.lock_model(model_schema text, model_name text) returns void
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    wait_seconds integer := coalesce((select i.lock_wait_seconds from dbt_learn.installation i), 600);
    previous text := current_setting('lock_timeout');
begin
    if not dbt_learn.may_change_model(model_schema) then
        raise exception using errcode = 'insufficient_privilege', message = format(
            'model ''%s'': role %s may not lock it; only a role with CREATE on schema %s may train, deploy or purge '
            'its models.', model_name, session_user, model_schema);
    end if;
    perform set_config('lock_timeout', (wait_seconds * 1000)::text, true);
    begin
        insert into dbt_learn.model_locks as l (model_schema, model_name)
        values (lock_model.model_schema, lock_model.model_name) on conflict do nothing;
        perform 1 from dbt_learn.model_locks l
        where l.model_schema = lock_model.model_schema and l.model_name = lock_model.model_name for update;
    exception when lock_not_available then
        raise exception using errcode = 'lock_not_available', message = format(
            'model ''%s'': another run has held its lock for %s s (training, deploying or purging it); wait for it '
            'to finish and rerun, or ask the admin to raise lock_wait_seconds (dbt_learn.install).',
            model_name, wait_seconds);
    end;
    perform set_config('lock_timeout', previous, true);
end $$;
revoke all on function dbt_learn.lock_model(text, text) from public;
{%- endmacro %}

{#- The dbt role calls lock_model itself around ml_train's relation swap. -#}
{% macro lock_grants_ddl(role_sql) -%}
grant execute on function dbt_learn.lock_model(text, text) to {{ role_sql }};
{%- endmacro %}
