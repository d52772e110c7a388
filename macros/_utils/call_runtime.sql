{#- Call a dbt_learn SQL function that returns jsonb; a user error it reports as {"error": ...} becomes a dbt error
    carrying just that message. -#}
{% macro call_runtime(sql, bindings) -%}
  {%- set result = fromjson(dbt_learn.fetch_rows(sql, bindings)[0][0]) -%}
  {%- if result is mapping and result.get('error') -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ result.error) }}
  {%- endif -%}
  {{ return(result) }}
{%- endmacro %}
