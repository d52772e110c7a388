{#- A SQL string literal for a value that must appear in compiled model SQL, where bind parameters cannot be used:
    quotes are doubled (standard_conforming_strings, checked by check_runtime, makes backslashes plain). -#}
{% macro sql_string_literal(value) -%}
  {{ return("'" ~ (value | string | replace("'", "''")) ~ "'") }}
{%- endmacro %}
