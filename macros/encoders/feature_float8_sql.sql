{#- One numeric or datetime feature as a float8 expression, qualified by the row alias when given: booleans through
    int, dates, timestamps and intervals as epoch seconds (the preprocessing turns datetimes into parts). -#}
{% macro feature_float8_sql(feature, alias=none) -%}
  {%- set column = (alias ~ '.' if alias else '') ~ dbt_learn.quote_identifier(feature.name) -%}
  {%- if feature.type in ('boolean', 'bool') -%}
    {{ return('(' ~ column ~ ')::int::float8') }}
  {%- elif feature.kind == 'datetime' or feature.type.startswith(('interval', 'time', 'date')) -%}
    {{ return('extract(epoch from ' ~ column ~ ')::float8') }}
  {%- endif -%}
  {{ return('(' ~ column ~ ')::float8') }}
{%- endmacro %}
