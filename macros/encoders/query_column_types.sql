{#- Exact Postgres column names and types of a query, in order, via a temporary view and format_type (the types a
    cursor reports are coarse: every string is STRING, every float FLOAT); with `categories`, each column's
    pg_type.typcategory too (N numeric, B boolean, S string, E enum, D date/time, T interval, U user-defined, ...),
    which tells an enum or a domain over text from any other type name. -#}
{% macro query_column_types(sql, categories=false) -%}
  {%- set view = '__dbt_learn_columns_' ~ local_md5(invocation_id ~ sql)[:16] -%}
  {% do run_query('create temporary view ' ~ dbt_learn.quote_identifier(view) ~ ' as ' ~ sql) %}
  {%- set rows = dbt_learn.fetch_rows(
      "select a.attname::text, format_type(a.atttypid, a.atttypmod),
              (select t.typcategory::text from pg_type t where t.oid = coalesce(nullif(b.typbasetype, 0), b.oid))
       from pg_attribute a join pg_type b on b.oid = a.atttypid
       where a.attrelid = ('pg_temp.' || quote_ident(%s))::regclass and a.attnum > 0 and not a.attisdropped
       order by a.attnum", [view]) -%}
  {% do run_query('drop view pg_temp.' ~ dbt_learn.quote_identifier(view)) %}
  {%- set column_types = {} -%}
  {%- for name, type, category in rows -%}
    {%- do column_types.update({name: {'type': type, 'category': category} if categories else type}) -%}
  {%- endfor -%}
  {{ return(column_types) }}
{%- endmacro %}
