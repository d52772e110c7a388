{#- The catalog: dbt_learn.algorithms() lists every estimator an ml_train model can name, from scikit-learn's own
    listing plus XGBoost and LightGBM when allowed at install time (python_models/dbt_learn/_catalog.py). The
    ml_algorithms package model materialises it. -#}
{% macro catalog_functions_ddl() -%}
  {{ return(adapter.dispatch('catalog_functions_ddl', 'dbt_learn')()) }}
{%- endmacro %}

{% macro default__catalog_functions_ddl() -%}
  {{ exceptions.raise_compiler_error("dbt_learn.catalog_functions_ddl: the catalog needs PostgreSQL with PL/Python; "
                                     ~ adapter.type() ~ " is not supported.") }}
{%- endmacro %}

{% macro postgres__catalog_functions_ddl() -%}
create or replace function dbt_learn.algorithms()
returns table (
    name text, task text, class_path text, package text, predicts_probabilities boolean, has_importances boolean,
    can_score boolean, needs_arguments boolean, summary text
) language plpython3u stable security definer set search_path = pg_catalog, pg_temp as $dbt_learn$
{{ dbt_learn.plpython_boot() }}
return runtime.algorithms(plpy)
$dbt_learn$;
{%- endmacro %}

{% macro catalog_grants_ddl(role_sql) -%}
  {{ return(adapter.dispatch('catalog_grants_ddl', 'dbt_learn')(role_sql)) }}
{%- endmacro %}

{% macro default__catalog_grants_ddl(role_sql) -%}
  {{ exceptions.raise_compiler_error("dbt_learn.catalog_grants_ddl: the catalog needs PostgreSQL with PL/Python; "
                                     ~ adapter.type() ~ " is not supported.") }}
{%- endmacro %}

{% macro postgres__catalog_grants_ddl(role_sql) -%}
grant execute on function dbt_learn.algorithms() to {{ role_sql }};
{%- endmacro %}
