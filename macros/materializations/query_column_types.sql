{#- Exact Postgres column names and types of a query, in order, via a temporary view and format_type (the types a
    cursor reports are coarse: every string is STRING, every float FLOAT). -#}
{% macro query_column_types(sql) -%}
  {%- set view = '__dbt_learn_columns_' ~ local_md5(invocation_id ~ sql)[:16] -%}
  {% do run_query('create temporary view ' ~ dbt_learn.quote_identifier(view) ~ ' as ' ~ sql) %}
  {%- set rows = dbt_learn.fetch_rows(
      "select attname::text, format_type(atttypid, atttypmod) from pg_attribute
       where attrelid = ('pg_temp.' || quote_ident(%s))::regclass and attnum > 0 and not attisdropped
       order by attnum", [view]) -%}
  {% do run_query('drop view pg_temp.' ~ dbt_learn.quote_identifier(view)) %}
  {%- set column_types = {} -%}
  {%- for name, type in rows -%}
    {%- do column_types.update({name: type}) -%}
  {%- endfor -%}
  {{ return(column_types) }}
{%- endmacro %}
