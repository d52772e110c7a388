{#- dbt's thread count: backends share the machine's cores among this many concurrent models. -#}
{% macro target_threads() -%}
  {{ return(target.threads | int) }}
{%- endmacro %}
