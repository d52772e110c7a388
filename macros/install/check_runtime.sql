{#- Fail early, with what to do, when the database has no dbt_learn runtime or a different version of it. -#}
{% macro check_runtime() -%}
  {{ return(adapter.dispatch('check_runtime', 'dbt_learn')()) }}
{%- endmacro %}

{% macro postgres__check_runtime() -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select to_regclass('dbt_learn.installation') is not null, current_setting('standard_conforming_strings')",
      []) -%}
  {%- if not rows[0][0] -%}
    {{ exceptions.raise_compiler_error(
        "dbt_learn is not installed in database '" ~ target.dbname ~ "' (no dbt_learn.installation table, or no "
        ~ "USAGE on schema dbt_learn for role '" ~ target.user ~ "'). A superuser installs it once with: "
        ~ "dbt run-operation dbt_learn.install --target <admin target> --args '{site_packages: ..., dbt_role: "
        ~ target.user ~ "}' (see the README, 'Install into an existing Postgres').") }}
  {%- endif -%}
  {%- if rows[0][1] != 'on' -%}
    {{ exceptions.raise_compiler_error("dbt_learn needs standard_conforming_strings = on (the Postgres default).") }}
  {%- endif -%}
  {%- set installed = dbt_learn.fetch_rows("select runtime_version from dbt_learn.installation", []) -%}
  {%- set expected = dbt_learn.runtime_version() -%}
  {%- if not installed or installed[0][0] != expected -%}
    {{ exceptions.raise_compiler_error(
        "dbt_learn: the database runs runtime " ~ (installed[0][0] if installed else 'none') ~ " but this dbt "
        ~ "package needs " ~ expected ~ ". Ask the database admin to upgrade the server venv and rerun "
        ~ "dbt run-operation dbt_learn.install (make setup does both for the local cluster).") }}
  {%- endif -%}
  {%- set loaded = dbt_learn.fetch_rows("select dbt_learn.loaded_runtime_version()", [])[0][0] -%}
  {%- if loaded != expected -%}
    {{ exceptions.raise_compiler_error(
        "dbt_learn: this connection's database backend still runs runtime " ~ loaded ~ ", loaded before "
        ~ expected ~ " was installed: a connection pool keeps backends alive. Let the pool reconnect them "
        ~ "(pgbouncer: RECONNECT on its admin console; scripts/pgbouncer.sh reconnect for the local one), "
        ~ "then rerun.") }}
  {%- endif -%}
{%- endmacro %}
