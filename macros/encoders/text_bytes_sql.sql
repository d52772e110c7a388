{#- One row's value of a text feature in the wire form string_agg concatenates: its UTF-8 bytes and a zero byte;
    NULL as the byte 0xff and a zero byte. Postgres text never holds a zero byte and UTF-8 never holds 0xff, so the
    runtime splits the column with one bytes.split (python_models/dbt_learn/_transport.py, decode_text_column). -#}
{% macro text_bytes_sql(expression) -%}
  {{ return("coalesce(convert_to((" ~ expression ~ ")::text, 'UTF8'), '\\xff'::bytea) || '\\x00'::bytea") }}
{%- endmacro %}
