{#- Run one statement with bind parameters (psycopg placeholders %s) and return its rows as lists.
    Values never enter the SQL text; a literal % in the statement must be written %%. -#}
{% macro fetch_rows(sql, bindings) -%}
  {%- set connection, cursor = adapter.add_query(sql, auto_begin=True, bindings=bindings) -%}
  {%- if cursor.description is none -%}
    {{ return([]) }}
  {%- endif -%}
  {{ return(cursor.fetchall() | map('list') | list) }}
{%- endmacro %}
