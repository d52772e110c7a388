{#- The PL/Python entry points. Each body is two lines: load the runtime once per backend (from the venv fixed in
    dbt_learn.installation at install time, never from a setting a user can change; a venv that cannot be imported
    is an error that names it and says how to reinstall it), then call its entry point of the same name
    (python_models/dbt_learn/sql_functions.py). -#}
{% macro plpython_boot() -%}
if 'dbt_learn' not in GD:
    import sys
    if not hasattr(sys, 'argv'):
        sys.argv = ['postgres']
    installed = plpy.execute('select site_packages, runtime_version from dbt_learn.installation')
    if not installed:
        plpy.error('dbt_learn is not installed: run dbt run-operation dbt_learn.install as a superuser')
    site_packages = installed[0]['site_packages']
    if site_packages not in sys.path:
        sys.path.insert(0, site_packages)
    try:
        import dbt_learn.sql_functions as runtime
    except Exception as error:
        # A venv deleted, moved or half-installed: say where it was looked for and how to restore it.
        import os
        plpy.error('dbt_learn: the server venv at %s%s cannot be imported (%s: %s); the admin reinstalls it: '
                   'make setup, or pip install the dbt-learn-runtime there and rerun dbt_learn.install'
                   % (site_packages, '' if os.path.isdir(site_packages) else ' (the directory does not exist)',
                      type(error).__name__, error))
    expected = installed[0]['runtime_version']
    if expected is not None and runtime.__version__ != expected:
        plpy.error('dbt_learn: the server venv has runtime %s but %s was installed; rerun dbt_learn.install'
                   % (runtime.__version__, expected))
    GD['dbt_learn'] = runtime
runtime = GD['dbt_learn']
if not hasattr(runtime, 'ENTRY_POINTS'):
    # A runtime from before 0.8.0 that a pooled backend loaded before the reinstall: it has none of these entry points.
    plpy.error('dbt_learn: this connection\'s database backend still runs runtime %s, loaded before dbt_learn was '
               'reinstalled: a connection pool keeps backends alive. Let the pool reconnect them (pgbouncer: '
               'RECONNECT on its admin console; scripts/pgbouncer.sh reconnect for the local one), then rerun.'
               % runtime.__version__)
{%- endmacro %}

{% macro functions_ddl() -%}
{%- set definer = "language plpython3u security definer set search_path = pg_catalog, pg_temp" -%}
create or replace function dbt_learn.runtime_info() returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.runtime_info()
$dbt_learn$;

{#- The runtime this backend has loaded: a pooled backend (pgbouncer keeps them between dbt's connections) may still
    run the one it loaded before a reinstall; check_runtime compares it with dbt_learn.installation. -#}
create or replace function dbt_learn.loaded_runtime_version() returns text {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.loaded_runtime_version()
$dbt_learn$;

create or replace function dbt_learn.describe_algorithm(
    model_name text, algorithm text, params jsonb, random_state integer
) returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.describe_algorithm(plpy, model_name, algorithm, params, random_state)
$dbt_learn$;

{#- The aggregate training path before 0.7.0 (dbt_learn.train_query and train_staged replaced it), with the
    signatures of earlier runtimes. -#}
drop function if exists dbt_learn.train(text, text, jsonb, bigint, bigint, bytea, text[]);
drop function if exists dbt_learn.train(text, text, jsonb, bigint, bigint, bytea[], text[], bigint[], text[]);
drop function if exists dbt_learn.train(text, text, jsonb, bigint, bigint, bytea[], text[], bigint[], text[], bytea[]);

create or replace function dbt_learn.train_python(
    model_schema text, model_name text, spec jsonb, code text, filename text
) returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_python(plpy, model_schema, model_name, spec, code, filename)
$dbt_learn$;

{#- The deployment of a run whose retrain policy trained nothing: the runtime's one rule for that case. -#}
create or replace function dbt_learn.keep_serving(model_schema text, model_name text, spec jsonb)
returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.keep_serving(plpy, model_schema, model_name, spec)
$dbt_learn$;

{#- Earlier runtimes returned one row per prediction from dbt_learn.predict(...bytea...); its result type changed. -#}
drop function if exists dbt_learn.predict(text, text, integer, bigint, bytea, text[], jsonb);
drop function if exists dbt_learn.predict_into_temp(text, text, integer, bigint, bytea, text[], jsonb);
{#- Before 0.5.0 text features came as text[][] and the result had three arrays. -#}
drop function if exists dbt_learn.predict_batch(text, text, integer, bigint, bytea, text[], jsonb);

create or replace function dbt_learn.predict_into_temp(
    model_schema text, model_name text, model_version integer, n_rows bigint, features bytea, categorical bytea[],
    options jsonb
) returns text {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.predict_into_temp(plpy, model_schema, model_name, model_version, n_rows, features, categorical,
                                 options)
$dbt_learn$;

{#- Batch scoring before 0.7.0 (ml_score streams through dbt_learn.score_relation now), kept because views that
    ml_score built with an earlier runtime call it: dropping it would fail the install or, with CASCADE, drop those
    views. One row of arrays in the batch's order; RETURN QUERY hands the COPY-loaded row over in C. -#}
create or replace function dbt_learn.predict_batch(
    model_schema text, model_name text, model_version integer, n_rows bigint, features bytea, categorical bytea[],
    options jsonb default '{}'
) returns table (prediction double precision[], class_index integer[], probabilities double precision[],
                 contribution_feature integer[], contribution double precision[])
language plpgsql security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
declare
    scored text;
begin
    scored := dbt_learn.predict_into_temp(model_schema, model_name, model_version, n_rows, features, categorical,
                                          options);
    -- The arrays are TOASTed in the temporary table and the result only points at them, so the table must outlive
    -- this call: it is created ON COMMIT DROP.
    return query execute format('select * from pg_temp.%I', scored);
end
$dbt_learn$;

{#- Row-level scoring for online use, with the serving version. Each call resolves in plain SQL - a plpgsql body
    whose plan is cached per backend, no subtransaction - the caller's USAGE on the model's schema (session_user),
    the serving version (the newest deployment, else the newest version; as registry._SERVING_VERSION) and its
    sha256, so a deploy or rollback is seen on the very next call; then dbt_learn.score_row scores the row with the
    estimator cached in this backend by (schema, name, version, sha256), without any query while the version is
    cached. Not PARALLEL SAFE: on a cache miss score_row reads the registry through plpy.execute, whose
    subtransaction Postgres refuses in parallel mode ("cannot start subtransactions during a parallel operation"). -#}
{%- set row_level = definer ~ " stable" %}
{%- set row_wrapper = "language plpgsql stable security definer set search_path = pg_catalog, pg_temp" %}

{#- The PL/Python part, for the SQL functions below only: revoked from PUBLIC and granted to nobody, so no role can
    pass a version or sha256 of its choosing; a version not cached, or a refused privilege, goes through
    registry.load_version, which re-reads the registry, checks the privilege and the artifact's sha256. SECURITY
    INVOKER without a SET clause: it runs as the owner with the fixed search_path of the SECURITY DEFINER function
    that calls it, and as anyone else with nothing more than their own rights (the SET clause alone cost ~8 µs a
    call). Returns a float8[]: the value, the class index, or the probabilities. -#}
create or replace function dbt_learn.score_row(
    model_schema text, model_name text, allowed boolean, model_version integer, artifact_sha256 text,
    features double precision[], output text
) returns double precision[] language plpython3u stable as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.score_row(plpy, model_schema, model_name, features, output, (allowed, model_version, artifact_sha256))
$dbt_learn$;
revoke all on function dbt_learn.score_row(text, text, boolean, integer, text, double precision[], text) from public;

create or replace function dbt_learn.score_row(
    model_schema text, model_name text, allowed boolean, model_version integer, artifact_sha256 text,
    features jsonb, output text
) returns double precision[] language plpython3u stable as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.score_row(plpy, model_schema, model_name, features, output, (allowed, model_version, artifact_sha256))
$dbt_learn$;
revoke all on function dbt_learn.score_row(text, text, boolean, integer, text, jsonb, text) from public;

{#- The serving version of ($1, $2) and its sha256, NULL without a trained version (score_row then says so): one
    cached plan, whose SELECT INTO and simple-expression RETURN cost less than one query with joins (~9 µs a call);
    the privilege comes from a syscache lookup (to_regnamespace), NULL without the schema. -#}
{%- set resolve_serving -%}
    select v.version, v.artifact_sha256, v.classes into serving from dbt_learn.model_versions as v
    where v.model_schema = $1 and v.model_name = $2 and v.version = dbt_learn.serving_version($1, $2);
{%- endset %}
{%- set score_row_args = "$1, $2, has_schema_privilege(session_user, to_regnamespace(quote_ident($1))::oid, 'USAGE'), "
                         ~ "serving.version, serving.artifact_sha256, $3" %}

{#- The variadic float8 form (numbers in training order) and, for a row of any feature types, the jsonb form (an
    object of feature name -> value; ml_predict emits jsonb_build_object for models with text or datetime
    features). -#}
{%- for features_type in ['variadic features double precision[]', 'features jsonb'] %}
create or replace function dbt_learn.predict(model_schema text, model_name text, {{ features_type }})
returns double precision {{ row_wrapper }} as $dbt_learn$
declare
    serving record;
begin
{{ resolve_serving }}
    return (dbt_learn.score_row({{ score_row_args }}, 'value'))[1];
end
$dbt_learn$;

create or replace function dbt_learn.predict_class(model_schema text, model_name text, {{ features_type }})
returns text {{ row_wrapper }} as $dbt_learn$
declare
    serving record;
begin
{{ resolve_serving }}
    return serving.classes[(dbt_learn.score_row({{ score_row_args }}, 'class_index'))[1]::integer + 1];
end
$dbt_learn$;

create or replace function dbt_learn.predict_proba(model_schema text, model_name text, {{ features_type }})
returns double precision[] {{ row_wrapper }} as $dbt_learn$
declare
    serving record;
begin
{{ resolve_serving }}
    return dbt_learn.score_row({{ score_row_args }}, 'probabilities');
end
$dbt_learn$;
{% endfor %}

{#- A row as the serving version's estimator sees it: the transformed features of the automatic preprocessing. -#}
create or replace function dbt_learn.preprocess_row(model_schema text, model_name text, features jsonb)
returns jsonb {{ row_level }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.preprocess_row(plpy, model_schema, model_name, features)
$dbt_learn$;
{%- endmacro %}
