{#- The origin every monitoring bucket is binned from (date_bin): a Monday at 00:00 UTC, so day buckets start at
    midnight UTC and week buckets on Mondays. Performance and drift share it, so their buckets line up. -#}
{% macro monitoring_bucket_origin_sql() -%}
  {{ return("timestamptz '2000-01-03 00:00:00+00'") }}
{%- endmacro %}
