{#- Deployment, rollback and purge: plain SQL work, so plpgsql. Each returns jsonb, {"error": ...} for a user
    mistake (the macros raise it as a dbt error), and checks that the calling role may create in the model's schema. -#}
{% macro lifecycle_functions_ddl() -%}
-- dbt_learn.lock_model, the one per-model lock, is in lock_functions_ddl.sql.
create or replace function dbt_learn.may_change_model(model_schema text) returns boolean
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select coalesce((select has_schema_privilege(session_user, n.oid, 'CREATE')
                     from pg_namespace n where n.nspname = model_schema), false)
$$;

-- The message for a model whose versions all belong to an earlier schema of this name (dropped, then created again:
-- another OID); NULL when the schema has versions of the model, or the name has none at all.
create or replace function dbt_learn.schema_identity_error(model_schema text, model_name text) returns text
language sql stable security definer set search_path = pg_catalog, pg_temp as $$
    select format('model ''%s'': no version of it belongs to schema %s (the schema was dropped and recreated since '
                  'version %s was trained); train it again: dbt run -s %s', $2, $1, max(v.version), $2)
    from dbt_learn.model_versions as v
    where v.model_schema = $1 and v.model_name = $2
    having count(*) > 0 and count(*) filter (
        where v.schema_oid = (select n.oid from pg_namespace as n where n.nspname = $1)) = 0
$$;

create or replace function dbt_learn.deploy(
    model_schema text, model_name text, model_version integer, strategy text, reason text
) returns jsonb
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    known text;
    identity_error text;  -- dbt_learn.schema_identity_error, asked once
    current_version integer;
begin
    if not dbt_learn.may_change_model(model_schema) then
        return jsonb_build_object('error', format('model ''%s'': role %s cannot deploy in schema %s (it needs CREATE '
            'on the schema).', model_name, session_user, model_schema));
    end if;
    perform dbt_learn.lock_model(model_schema, model_name);
    identity_error := dbt_learn.schema_identity_error(model_schema, model_name);
    if identity_error is not null then
        return jsonb_build_object('error', identity_error);
    end if;
    -- Only versions of the schema that has this name now (its OID), and not purged ones.
    if not exists (select 1 from dbt_learn.model_versions v where v.model_schema = deploy.model_schema
                   and v.model_name = deploy.model_name and v.version = model_version
                   and v.schema_oid = (select n.oid from pg_namespace n where n.nspname = deploy.model_schema)) then
        select string_agg(v.version::text, ', ' order by v.version) into known from dbt_learn.model_versions v
        where v.model_schema = deploy.model_schema and v.model_name = deploy.model_name
          and v.schema_oid = (select n.oid from pg_namespace n where n.nspname = deploy.model_schema);
        return jsonb_build_object('error', format('model ''%s'' has no version %s to deploy; its versions are: %s.',
            model_name, model_version, coalesce(known, 'none (train it first)')));
    end if;
    select d.version into current_version from dbt_learn.deployed_versions d
    where d.model_schema = deploy.model_schema and d.model_name = deploy.model_name;
    if current_version is distinct from model_version then
        insert into dbt_learn.deployments (model_schema, model_name, version, strategy, reason)
        values (model_schema, model_name, model_version, strategy, reason);
    end if;
    return jsonb_build_object('deployed_version', model_version, 'previous_version', current_version,
                              'changed', current_version is distinct from model_version);
end $$;

create or replace function dbt_learn.rollback(model_schema text, model_name text, reason text) returns jsonb
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    current_version integer;
    earlier integer;
    identity_error text;  -- dbt_learn.schema_identity_error, asked once
begin
    if not dbt_learn.may_change_model(model_schema) then
        return jsonb_build_object('error', format('model ''%s'': role %s cannot roll back in schema %s (it needs '
            'CREATE on the schema).', model_name, session_user, model_schema));
    end if;
    perform dbt_learn.lock_model(model_schema, model_name);
    identity_error := dbt_learn.schema_identity_error(model_schema, model_name);
    if identity_error is not null then
        return jsonb_build_object('error', identity_error);
    end if;
    current_version := dbt_learn.serving_version(model_schema, model_name);
    if current_version is null then
        return jsonb_build_object('error', format('model ''%s'' has no trained version; nothing to roll back.',
                                                  model_name));
    end if;
    select max(v.version) into earlier from dbt_learn.model_versions v
    where v.model_schema = rollback.model_schema and v.model_name = rollback.model_name
      and v.version < current_version  -- purged versions have no row: skipped
      and v.schema_oid = (select n.oid from pg_namespace n where n.nspname = rollback.model_schema);
    if earlier is null then
        return jsonb_build_object('error', format('model ''%s'': version %s is the earliest version; there is no '
            'earlier version to roll back to.', model_name, current_version));
    end if;
    return dbt_learn.deploy(model_schema, model_name, earlier, 'rollback',
                            coalesce(reason, format('rolled back from version %s', current_version)));
end $$;

create or replace function dbt_learn.purge_versions(model_schema text, model_name text, keep_last integer)
returns jsonb
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
    purged integer[];
    identity_error text;  -- dbt_learn.schema_identity_error, asked once
    current_oid oid := (select n.oid from pg_namespace n where n.nspname = purge_versions.model_schema);
begin
    if not dbt_learn.may_change_model(model_schema) then
        return jsonb_build_object('error', format('model ''%s'': role %s cannot purge in schema %s.', model_name,
                                                  session_user, model_schema));
    end if;
    if keep_last is null or keep_last < 1 then
        return jsonb_build_object('error', 'keep_last must be at least 1.');
    end if;
    perform dbt_learn.lock_model(model_schema, model_name);
    identity_error := dbt_learn.schema_identity_error(model_schema, model_name);
    if identity_error is not null then
        return jsonb_build_object('error', identity_error);
    end if;
    -- Only this schema's versions (its OID); never the serving version, nor the newest keep_last ones.
    select coalesce(array_agg(v.version order by v.version), '{}') into purged from dbt_learn.model_versions v
    where v.model_schema = purge_versions.model_schema and v.model_name = purge_versions.model_name
      and v.schema_oid = current_oid
      and v.version not in (select w.version from dbt_learn.model_versions w
                            where w.model_schema = purge_versions.model_schema
                              and w.model_name = purge_versions.model_name and w.schema_oid = current_oid
                            order by w.version desc limit keep_last)
      and v.version is distinct from dbt_learn.serving_version(
          purge_versions.model_schema, purge_versions.model_name);
    -- The append-only trigger lets this transaction delete versions and artifacts (never deployments: the log
    -- keeps naming purged versions) while its id is in the owner-only purging_transactions.
    insert into dbt_learn.purging_transactions values (txid_current());
    delete from dbt_learn.model_artifacts a where a.model_schema = purge_versions.model_schema
        and a.model_name = purge_versions.model_name and a.version = any(purged);
    delete from dbt_learn.model_versions v where v.model_schema = purge_versions.model_schema
        and v.model_name = purge_versions.model_name and v.version = any(purged);
    delete from dbt_learn.purging_transactions p where p.transaction_id = txid_current();
    return jsonb_build_object('purged_versions', to_jsonb(purged));
end $$;
{%- endmacro %}
