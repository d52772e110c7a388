{#- `column >= bound` written so an index or partition on the raw column can serve it (bound is a timestamptz
    expression): a timestamp column is compared with the bound read as UTC, a date column first with the bound's
    date (a superset an index can use) and then exactly. This is what keeps an incremental run proportional to its
    batch (labels and performance buckets alike): the scan starts at the bound instead of reading the history. -#}
{% macro monitoring_since_sql(relation, column, alias, bound_sql, argument) -%}
  {%- set expression = dbt_learn.monitoring_time_sql(relation, column, alias, argument) -%}
  {%- set raw = alias ~ '.' ~ dbt_learn.quote_identifier(column) -%}
  {%- set type = (adapter.get_columns_in_relation(relation) | selectattr('name', 'equalto', column) | first).data_type
      | lower -%}
  {%- if type == 'date' -%}
    {{ return('(' ~ raw ~ ' >= ((' ~ bound_sql ~ ") at time zone 'UTC')::date and " ~ expression ~ ' >= '
        ~ bound_sql ~ ')') }}
  {%- elif expression != raw -%}
    {{ return(raw ~ ' >= ((' ~ bound_sql ~ ") at time zone 'UTC')") }}
  {%- endif -%}
  {{ return(raw ~ ' >= ' ~ bound_sql) }}
{%- endmacro %}
