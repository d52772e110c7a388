{#- The PL/Python entry points. Each body is two lines: load the runtime once per backend (from the venv fixed in
    dbt_learn.installation at install time, never from a setting a user can change), then call it. -#}
{% macro plpython_boot() -%}
if 'dbt_learn' not in GD:
    import sys
    if not hasattr(sys, 'argv'):
        sys.argv = ['postgres']
    installed = plpy.execute('select site_packages, runtime_version from dbt_learn.installation')
    if not installed:
        plpy.error('dbt_learn is not installed: run dbt run-operation dbt_learn.install as a superuser')
    if installed[0]['site_packages'] not in sys.path:
        sys.path.insert(0, installed[0]['site_packages'])
    import dbt_learn._in_database as runtime
    expected = installed[0]['runtime_version']
    if expected is not None and runtime.__version__ != expected:
        plpy.error('dbt_learn: the server venv has runtime %s but %s was installed; rerun dbt_learn.install'
                   % (runtime.__version__, expected))
    GD['dbt_learn'] = runtime
runtime = GD['dbt_learn']
{%- endmacro %}

{% macro functions_ddl() -%}
{%- set definer = "language plpython3u security definer set search_path = pg_catalog, pg_temp" -%}
create or replace function dbt_learn.runtime_info() returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.runtime_info()
$dbt_learn$;

create or replace function dbt_learn.describe_algorithm(
    model_name text, algorithm text, params jsonb, random_state integer
) returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.describe_algorithm(plpy, model_name, algorithm, params, random_state)
$dbt_learn$;

create or replace function dbt_learn.train(
    model_schema text, model_name text, spec jsonb, n_rows bigint, null_targets bigint, training_rows bytea,
    classes text[]
) returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_sql_model(plpy, model_schema, model_name, spec, n_rows, null_targets, training_rows, classes)
$dbt_learn$;

create or replace function dbt_learn.train_python(
    model_schema text, model_name text, spec jsonb, code text, filename text
) returns jsonb {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.train_python_model(plpy, model_schema, model_name, spec, code, filename)
$dbt_learn$;

create or replace function dbt_learn.predict_into_temp(
    model_schema text, model_name text, model_version integer, n_rows bigint, features bytea, categorical text[],
    options jsonb
) returns text {{ definer }} as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.predict_into_temp(plpy, model_schema, model_name, model_version, n_rows, features, categorical,
                                 options)
$dbt_learn$;

{#- Set-returning wrapper: RETURN QUERY copies the COPY-loaded temp table into the result in C, no Python rows. -#}
create or replace function dbt_learn.predict(
    model_schema text, model_name text, model_version integer, n_rows bigint, features bytea, categorical text[],
    options jsonb default '{}'
) returns table (row_number bigint, prediction double precision, class_index integer, probabilities double precision[])
language plpgsql security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
declare
    scored text;
begin
    scored := dbt_learn.predict_into_temp(model_schema, model_name, model_version, n_rows, features, categorical,
                                          options);
    return query execute format('select * from pg_temp.%I', scored);
    execute format('drop table pg_temp.%I', scored);
end
$dbt_learn$;
{%- endmacro %}
