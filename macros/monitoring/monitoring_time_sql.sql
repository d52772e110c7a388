{#- A time column of `relation` as a timestamptz expression on `alias`, by the column's type: timestamptz as it is,
    `timestamp` (without time zone) and `date` read as UTC, so rows from sources that store local and zoned times
    compare on one clock. Any other type is an error that names the model's argument, the column and its type. -#}
{% macro monitoring_time_sql(relation, column, alias, argument) -%}
  {%- set columns = adapter.get_columns_in_relation(relation) -%}
  {%- set found = columns | selectattr('name', 'equalto', column) | list -%}
  {%- if not found -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ argument ~ " '" ~ column ~ "' is not a column of " ~ relation
        ~ "; its columns are: " ~ columns | map(attribute='name') | join(', ')) }}
  {%- endif -%}
  {%- set type = found[0].data_type | lower -%}
  {%- set expression = alias ~ '.' ~ dbt_learn.quote_identifier(column) -%}
  {%- if type in ('timestamp with time zone', 'timestamptz') -%}
    {{ return(expression) }}
  {%- elif type in ('timestamp without time zone', 'timestamp') -%}
    {{ return('(' ~ expression ~ " at time zone 'UTC')") }}
  {%- elif type == 'date' -%}
    {{ return('(' ~ expression ~ "::timestamp at time zone 'UTC')") }}
  {%- endif -%}
  {{ exceptions.raise_compiler_error("dbt_learn: " ~ argument ~ " '" ~ column ~ "' of " ~ relation ~ " has type "
      ~ type ~ "; it must be a timestamptz, timestamp (read as UTC) or date. Cast it in the model that builds "
      ~ relation.identifier ~ " (text with mixed offsets: ::timestamptz).") }}
{%- endmacro %}
