{#- The runtime version these macros were written for; python_models/dbt_learn/_version.py carries the same. -#}
{% macro runtime_version() -%}
  {{ return('0.9.0') }}
{%- endmacro %}
