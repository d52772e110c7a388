{#- The registry: one row per trained version, append-only; artifacts apart so listing versions stays cheap. -#}
{% macro registry_ddl() -%}
create schema if not exists dbt_learn;
revoke all on schema dbt_learn from public;

create table if not exists dbt_learn.installation (
    singleton boolean primary key default true check (singleton),
    runtime_version text,
    site_packages text not null,
    allowed_packages text[] not null,
    python_models_allowed boolean not null,
    libraries jsonb,
    installed_at timestamptz not null default now(),
    installed_by name not null default session_user
);
alter table dbt_learn.installation add column if not exists lock_wait_seconds integer not null default 600
    check (lock_wait_seconds > 0);
alter table dbt_learn.installation add column if not exists work_bounds jsonb not null default '{}';

create table if not exists dbt_learn.model_versions (
    model_schema text not null,
    model_name text not null,
    version integer not null check (version > 0),
    trained_at timestamptz not null default clock_timestamp(),
    trained_by name not null default session_user,
    language text not null,
    task text not null,
    algorithm text not null,
    params jsonb not null,
    target_column text,
    target_type text,
    classes text[],
    id_columns text[] not null default '{}',
    features jsonb not null,
    training_rows bigint not null,
    holdout_rows bigint not null,
    metrics jsonb not null,
    fit_seconds double precision not null,
    training_stats jsonb not null,
    data_fingerprint text not null,
    library_versions jsonb not null,
    artifact_sha256 text not null,
    artifact_bytes bigint not null,
    dbt_invocation_id text,
    dbt_unique_id text,
    config jsonb not null default '{}',
    primary key (model_schema, model_name, version)
);

create table if not exists dbt_learn.model_artifacts (
    model_schema text not null,
    model_name text not null,
    version integer not null,
    artifact bytea not null,
    primary key (model_schema, model_name, version),
    foreign key (model_schema, model_name, version) references dbt_learn.model_versions
);

-- Added after 0.1.0: what on_change retraining compares, and how the version was evaluated.
alter table dbt_learn.model_versions add column if not exists config_fingerprint text;
alter table dbt_learn.model_versions add column if not exists evaluation jsonb not null default '{}';
alter table dbt_learn.model_versions add column if not exists predicts_probabilities boolean;
-- Added with meta.retrain_on: why the version was trained (first version, what changed, --full-refresh, the policy,
-- a monitor breach), and the run's moment on the monitoring clock (var dbt_learn_as_of, else now()), which monitor
-- periods are compared with (trained_at is the wall clock, which a replay does not follow).
alter table dbt_learn.model_versions add column if not exists training_reason text;
alter table dbt_learn.model_versions add column if not exists trained_as_of timestamptz;
-- Added with the automatic preprocessing (runtime 0.5.0): the fitted transform in readable form (per input column
-- its kind, steps and output features), and the version's global feature importances.
alter table dbt_learn.model_versions add column if not exists preprocessing jsonb;
alter table dbt_learn.model_versions add column if not exists feature_importances jsonb;
-- Added with the model report (runtime 0.8.0): the holdout's confusion matrix, curves, calibration bins or
-- predicted-vs-actual sample, computed at training time so the report reads aggregates only (_diagnostics.py).
alter table dbt_learn.model_versions add column if not exists diagnostics jsonb;

-- The metrics each task's versions carry, which way is better, and the one each task is summarised by: the
-- runtime's evaluation.METRICS / LOWER_IS_BETTER / HEADLINE, copied here by every install (not append-only: it
-- follows the installed runtime).
create table if not exists dbt_learn.metric_definitions (
    task text not null,
    metric text not null,
    position integer not null,
    higher_is_better boolean not null,
    is_headline boolean not null,
    primary key (task, metric)
);

-- Which version serves: an append-only log; the newest row per model is the deployed version.
create table if not exists dbt_learn.deployments (
    deployment_id bigserial primary key,
    model_schema text not null,
    model_name text not null,
    version integer not null,
    deployed_at timestamptz not null default clock_timestamp(),
    deployed_by name not null default session_user,
    strategy text not null,
    reason text,
    foreign key (model_schema, model_name, version) references dbt_learn.model_versions
);
create index if not exists deployments_model on dbt_learn.deployments (model_schema, model_name, deployment_id);

-- Added with schema identity (runtime 0.8.0): the OID of the model's schema, recorded by a trigger with every row.
-- A schema dropped and recreated under the same name is another schema: its OID differs, so none of the old rows
-- serve, deploy, roll back or purge in it (a new history starts there). Rows of schemas dropped before this column
-- existed keep NULL, which matches no schema.
{% for table in ['model_versions', 'model_artifacts', 'deployments'] %}
alter table dbt_learn.{{ table }} add column if not exists schema_oid oid;
{% endfor %}
-- The deployment log outlives purged versions (dbt_learn.purge_versions keeps it), so it names versions without a
-- foreign key; dbt_learn.deploy checks that the version exists, and the serving version is never purged.
alter table dbt_learn.deployments drop constraint if exists deployments_model_schema_model_name_version_fkey;

create or replace function dbt_learn.record_schema_oid() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    new.schema_oid := (select n.oid from pg_namespace as n where n.nspname = new.model_schema);
    return new;
end $$;

-- The newest deployment per model of the schema that exists under its name now.
create or replace view dbt_learn.deployed_versions with (security_invoker = true) as
select distinct on (d.model_schema, d.model_name)
    d.model_schema, d.model_name, d.version, d.deployed_at, d.deployed_by, d.strategy, d.reason
from dbt_learn.deployments as d
where d.schema_oid = (select n.oid from pg_catalog.pg_namespace as n where n.nspname = d.model_schema)
order by d.model_schema, d.model_name, d.deployment_id desc;

-- The one definition of which version serves a model: the newest deployment, else the newest version, among the
-- rows of the schema that has this name now (its OID); NULL for a model with no version there. Every reader (the
-- row-level functions, the runtime, the scoring macros, the package models through serving_versions) calls this.
-- A catalog lookup and two index probes that stop at their first entry; plpgsql rather than SQL so the plans stay
-- cached in the backend (a SQL function with subqueries is not inlined and is planned on every call), and no SET
-- clause (it costs ~8 µs a call): every name is qualified, and it reads only what the caller may read (row-level
-- security below). A purged version never serves: the serving version is never purged and dbt_learn.deploy only
-- deploys existing versions, so the newest deployment always names an existing one.
create or replace function dbt_learn.serving_version(model_schema text, model_name text) returns integer
language plpgsql stable as $$
declare
    -- A syscache lookup in a simple expression (~1 µs; a query here costs ~15 µs), NULL without the schema.
    current_oid oid := pg_catalog.to_regnamespace(pg_catalog.quote_ident(serving_version.model_schema));
begin
    return coalesce(
        (select d.version from dbt_learn.deployments as d
         where d.model_schema = serving_version.model_schema and d.model_name = serving_version.model_name
           and d.schema_oid = current_oid
         order by d.deployment_id desc limit 1),
        (select max(v.version) from dbt_learn.model_versions as v
         where v.model_schema = serving_version.model_schema and v.model_name = serving_version.model_name
           and v.schema_oid = current_oid));
end $$;

-- Every model with its serving version, for readers of many models at once.
create or replace view dbt_learn.serving_versions with (security_invoker = true) as
select models.model_schema, models.model_name,
       dbt_learn.serving_version(models.model_schema, models.model_name) as version
from (select distinct model_schema, model_name from dbt_learn.model_versions) as models;
alter view dbt_learn.deployed_versions set (security_invoker = true);
alter view dbt_learn.serving_versions set (security_invoker = true);

-- Who sees which rows: a role sees the registry rows of the schemas it has USAGE on (by OID: a dropped schema's rows
-- are seen by nobody but the owner). The SECURITY DEFINER functions run as the tables' owner, whom row-level
-- security does not apply to (no FORCE): they check the calling role themselves.
{% for table in ['model_versions', 'model_artifacts', 'deployments'] %}
alter table dbt_learn.{{ table }} enable row level security;
drop policy if exists schema_users on dbt_learn.{{ table }};
create policy schema_users on dbt_learn.{{ table }} for select
    using (pg_catalog.has_schema_privilege(schema_oid, 'USAGE'));
{% endfor %}

-- The transactions of dbt_learn.purge_versions, the one way to delete history: owner-only, and a row lives only
-- inside the purging transaction (purge_versions deletes it before returning). No setting a session can change
-- opens the registry.
create table if not exists dbt_learn.purging_transactions (transaction_id bigint primary key);
revoke all on dbt_learn.purging_transactions from public;

create or replace function dbt_learn.forbid_registry_changes() returns trigger
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
begin
    if tg_op = 'DELETE' and tg_table_name <> 'deployments' and exists (
            select 1 from dbt_learn.purging_transactions as p where p.transaction_id = txid_current()) then
        return old;
    end if;
    raise exception 'dbt_learn: % is append-only; trained versions are never changed or deleted (%).',
        tg_table_name, tg_op
        using hint = 'Train a new version instead, or drop old ones with dbt_learn.purge_versions; history '
                     'survives --full-refresh by design.';
end $$;

{% for table in ['model_versions', 'model_artifacts', 'deployments'] %}
drop trigger if exists append_only on dbt_learn.{{ table }};
drop trigger if exists append_only_truncate on dbt_learn.{{ table }};
drop trigger if exists record_schema_oid on dbt_learn.{{ table }};
-- Rows from before schema_oid: the OID of the schema that has their name now, where there is one.
update dbt_learn.{{ table }} as r set schema_oid = n.oid
from pg_catalog.pg_namespace as n where r.schema_oid is null and n.nspname = r.model_schema;
create trigger record_schema_oid before insert on dbt_learn.{{ table }}
    for each row execute function dbt_learn.record_schema_oid();
create trigger append_only before update or delete on dbt_learn.{{ table }}
    for each row execute function dbt_learn.forbid_registry_changes();
create trigger append_only_truncate before truncate on dbt_learn.{{ table }}
    for each statement execute function dbt_learn.forbid_registry_changes();
{% endfor %}
{%- endmacro %}
