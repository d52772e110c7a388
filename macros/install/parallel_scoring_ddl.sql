{#- The functions of parallel scoring (ml_score over a table with two or more threads per model): each UNION ALL
    branch of the scoring query aggregates one block range and calls dbt_learn.score_rows, which Postgres may run in
    a parallel worker. There no PL/Python query may run (SPI opens a subtransaction, refused in parallel mode), so the
    plpgsql wrapper resolves everything in SQL - the caller's USAGE on the model's schema, the version's metadata,
    the artifact unless this process has it cached, the venv fixed at install - and passes it to the PL/Python part,
    which is granted to nobody. -#}
{% macro parallel_scoring_ddl() -%}
  {{ return(adapter.dispatch('parallel_scoring_ddl', 'dbt_learn')()) }}
{%- endmacro %}

{% macro default__parallel_scoring_ddl() -%}
  {{ exceptions.raise_compiler_error("dbt_learn: scoring runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__parallel_scoring_ddl() -%}
{#- The runtime is loaded from the venv dbt_learn.installation names, read by the wrapper in SQL and passed in. -#}
{%- set worker_boot -%}
if 'dbt_learn' not in GD:
    import sys
    if not hasattr(sys, 'argv'):
        sys.argv = ['postgres']
    if site_packages not in sys.path:
        sys.path.insert(0, site_packages)
    import dbt_learn._in_database as runtime
    if runtime.__version__ != runtime_version:
        plpy.error('dbt_learn: the server venv has runtime %s but %s was installed; rerun dbt_learn.install'
                   % (runtime.__version__, runtime_version))
    GD['dbt_learn'] = runtime
from dbt_learn import _parallel_scoring
{%- endset -%}
create or replace function dbt_learn.score_rows_needs_artifact(
    site_packages text, runtime_version text, artifact_sha256 text
) returns boolean language plpython3u stable parallel safe as $dbt_learn$
{{ worker_boot }}
return _parallel_scoring.needs_artifact(artifact_sha256)
$dbt_learn$;

create or replace function dbt_learn.score_rows_python(
    site_packages text, runtime_version text, model_name text, meta jsonb, artifact bytea, row_count bigint,
    features bytea, texts bytea[], options jsonb, out n_rows bigint, out prediction double precision[],
    out class_index integer[], out probabilities double precision[], out contribution_feature integer[],
    out contribution double precision[]
) language plpython3u stable parallel safe as $dbt_learn$
{{ worker_boot }}
return _parallel_scoring.score_rows(plpy, model_name, meta, artifact, row_count, features, texts, options)
$dbt_learn$;
revoke all on function dbt_learn.score_rows_needs_artifact(text, text, text),
    dbt_learn.score_rows_python(text, text, text, jsonb, bytea, bigint, bytea, bytea[], jsonb) from public;

{#- One branch's rows: row_count rows, their numeric features (float8, row-major) and one blob per text feature.
    COST makes a branch worth a parallel worker to the planner. Zero rows: no privilege check, no model loaded. -#}
create or replace function dbt_learn.score_rows(
    model_schema text, model_name text, model_version integer, row_count bigint, features bytea, texts bytea[],
    options jsonb, out n_rows bigint, out prediction double precision[], out class_index integer[],
    out probabilities double precision[], out contribution_feature integer[], out contribution double precision[]
) language plpgsql stable parallel safe security definer set search_path = pg_catalog, pg_temp cost 1000000
as $dbt_learn$
declare
    installed record;
    version_meta jsonb;
    sha text;
    artifact bytea;
begin
    n_rows := coalesce(row_count, 0);
    if n_rows = 0 then
        return;
    end if;
    if not coalesce(has_schema_privilege(session_user, to_regnamespace(model_schema), 'USAGE'), false) then
        raise exception 'dbt_learn: model ''%'': role % cannot score with models in schema % (it needs USAGE on the schema).',
            model_name, session_user, model_schema;
    end if;
    select jsonb_build_object('task', v.task, 'features', v.features, 'classes', v.classes,
                              'artifact_sha256', v.artifact_sha256, 'preprocessing', v.preprocessing,
                              'threshold', (v.config->>'threshold')::float8), v.artifact_sha256
    into version_meta, sha
    from dbt_learn.model_versions v
    where v.model_schema = score_rows.model_schema and v.model_name = score_rows.model_name
      and v.version = model_version;
    if not found then
        raise exception 'dbt_learn: model ''%'' (schema %) has no version %; run the ml_train model first (dbt run -s %).',
            model_name, model_schema, model_version, model_name;
    end if;
    select i.site_packages, i.runtime_version into installed from dbt_learn.installation i;
    if dbt_learn.score_rows_needs_artifact(installed.site_packages, installed.runtime_version, sha) then
        select a.artifact into artifact from dbt_learn.model_artifacts a
        where a.model_schema = score_rows.model_schema and a.model_name = score_rows.model_name
          and a.version = model_version;
    end if;
    select s.n_rows, s.prediction, s.class_index, s.probabilities, s.contribution_feature, s.contribution
    into n_rows, prediction, class_index, probabilities, contribution_feature, contribution
    from dbt_learn.score_rows_python(installed.site_packages, installed.runtime_version, model_name, version_meta,
                                     artifact, row_count, features, texts, options) as s;
end
$dbt_learn$;
revoke all on function dbt_learn.score_rows(text, text, integer, bigint, bytea, bytea[], jsonb) from public;
{%- endmacro %}

{% macro parallel_scoring_grants_ddl(role_sql) -%}
  {{ return(adapter.dispatch('parallel_scoring_grants_ddl', 'dbt_learn')(role_sql)) }}
{%- endmacro %}

{% macro default__parallel_scoring_grants_ddl(role_sql) -%}
  {{ exceptions.raise_compiler_error("dbt_learn: scoring runs in PL/Python: Postgres only.") }}
{%- endmacro %}

{% macro postgres__parallel_scoring_grants_ddl(role_sql) -%}
grant execute on function dbt_learn.score_rows(text, text, integer, bigint, bytea, bytea[], jsonb) to {{ role_sql }};
{%- endmacro %}
