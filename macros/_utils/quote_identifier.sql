{#- adapter.quote with embedded double quotes doubled, so any column name is one safe identifier. -#}
{% macro quote_identifier(name) -%}
  {{ return(adapter.quote(name | string | replace('"', '""'))) }}
{%- endmacro %}
