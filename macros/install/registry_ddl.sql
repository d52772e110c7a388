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

create or replace view dbt_learn.deployed_versions as
select distinct on (model_schema, model_name)
    model_schema, model_name, version, deployed_at, deployed_by, strategy, reason
from dbt_learn.deployments
order by model_schema, model_name, deployment_id desc;

create or replace function dbt_learn.forbid_registry_changes() returns trigger
language plpgsql set search_path = pg_catalog, pg_temp as $$
begin
    -- dbt_learn.purge_versions, the one explicit way to delete history, sets this for its own transaction.
    if tg_op = 'DELETE' and current_setting('dbt_learn.purging', true) = 'on' then
        return old;
    end if;
    raise exception 'dbt_learn: % is append-only; trained versions are never changed or deleted (%).',
        tg_table_name, tg_op
        using hint = 'Train a new version instead; history survives --full-refresh by design.';
end $$;

{% for table in ['model_versions', 'model_artifacts', 'deployments'] %}
drop trigger if exists append_only on dbt_learn.{{ table }};
create trigger append_only before update or delete on dbt_learn.{{ table }}
    for each row execute function dbt_learn.forbid_registry_changes();
drop trigger if exists append_only_truncate on dbt_learn.{{ table }};
create trigger append_only_truncate before truncate on dbt_learn.{{ table }}
    for each statement execute function dbt_learn.forbid_registry_changes();
{% endfor %}
{%- endmacro %}
