{#- One numeric feature as a float8 expression (booleans through int), qualified by the row alias when given. -#}
{% macro feature_float8_sql(feature, alias=none) -%}
  {%- set column = (alias ~ '.' if alias else '') ~ dbt_learn.quote_identifier(feature.name) -%}
  {{ return('(' ~ column ~ ')' ~ ('::int::float8' if feature.type in ('boolean', 'bool') else '::float8')) }}
{%- endmacro %}
