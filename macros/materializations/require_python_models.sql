{#- Python models run code in the server, so only roles the admin allowed at install may run them (docs/security.md):
    refuse, before any code runs, when the install does not allow Python models or the role may not execute the
    function that runs them. -#}
{% macro require_python_models(model, function_signature, instead) -%}
  {%- set allowed = dbt_learn.fetch_rows(
      "select python_models_allowed and has_function_privilege(%s, 'execute') from dbt_learn.installation",
      [function_signature]) -%}
  {%- if not allowed[0][0] -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "' is a Python model, but this database's "
        ~ "dbt_learn install does not allow Python models for role '" ~ target.user ~ "'. Ask the admin to rerun "
        ~ "dbt_learn.install with allow_python_models: true, or " ~ instead ~ ".") }}
  {%- endif -%}
{%- endmacro %}
