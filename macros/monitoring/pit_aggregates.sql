{#- Internal to ml_trailing_aggregate: validate structured aggregates ({'name', 'function', 'column'}) against the
    events' columns and return [{'name', 'column', 'sql'}]. Functions come from a whitelist and columns are quoted, so
    no user text reaches the SQL raw. Booleans are averaged and summed as 0/1 (a conversion rate is avg(converted));
    min/max of a boolean are bool_and/bool_or, as Postgres has no min(boolean). -#}
{% macro pit_aggregates(macro, events, columns, aggregates, alias) -%}
  {%- set functions = ['count', 'count_distinct', 'sum', 'avg', 'min', 'max', 'stddev', 'bool_or'] -%}
  {%- set numeric = ['smallint', 'integer', 'bigint', 'real', 'double precision', 'numeric', 'decimal'] -%}
  {%- if aggregates is mapping or aggregates is string or not aggregates -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ events ~ "): aggregates must be a non-empty list "
        ~ "like [{'name': 'leads_3h', 'function': 'count'}, {'name': 'conversion_rate_3h', 'function': 'avg', "
        ~ "'column': 'converted'}].") }}
  {%- endif -%}
  {%- set measures = [] -%}
  {%- for aggregate in aggregates -%}
    {%- set argument = 'aggregates[' ~ loop.index0 ~ ']' -%}
    {%- do dbt_learn.pit_check_keys(macro, argument, aggregate, ['name', 'function', 'column'],
                                    ['name', 'function']) -%}
    {%- set function = aggregate['function'] | string | lower -%}
    {%- set column = aggregate.get('column') -%}
    {%- set where = argument ~ " '" ~ aggregate['name'] ~ "'" -%}
    {%- if function not in functions -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ events ~ "): " ~ where ~ ": unknown function '"
          ~ aggregate['function'] ~ "'; the allowed functions are: " ~ functions | join(', ') ~ ".") }}
    {%- endif -%}
    {%- if column is none and function != 'count' -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ events ~ "): " ~ where ~ ": " ~ function
          ~ " needs a 'column' of " ~ events ~ " (only count counts rows without one).") }}
    {%- endif -%}
    {%- if column is none -%}
      {%- do measures.append({'name': aggregate['name'] | string, 'column': none, 'sql': 'count(*)'}) -%}
    {%- else -%}
      {%- do dbt_learn.pit_require(macro, events, columns, where ~ ' column', [column]) -%}
      {%- set type = columns.types[column] -%}
      {%- set is_boolean = type == 'boolean' -%}
      {%- set is_number = (type.split('(')[0] | trim) in numeric -%}
      {%- set value = alias ~ '.' ~ dbt_learn.quote_identifier(column) -%}
      {%- if function in ('sum', 'avg', 'stddev') and not (is_number or is_boolean)
             or function == 'bool_or' and not is_boolean -%}
        {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ events ~ "): " ~ where ~ ": " ~ function
            ~ " needs a " ~ ('boolean' if function == 'bool_or' else 'numeric or boolean') ~ " column; '" ~ column
            ~ "' is " ~ type ~ ". Cast it in the model that builds " ~ events ~ ", or choose another function.") }}
      {%- endif -%}
      {%- if function == 'count' -%}
        {%- set sql = 'count(' ~ value ~ ')' -%}
      {%- elif function == 'count_distinct' -%}
        {%- set sql = 'count(distinct ' ~ value ~ ')' -%}
      {%- elif function in ('sum', 'avg', 'stddev') -%}
        {%- set sql = ('stddev_samp' if function == 'stddev' else function) ~ '('
                      ~ (value ~ '::int' if is_boolean else value) ~ ')' -%}
      {%- elif is_boolean and function in ('min', 'max') -%}
        {%- set sql = ('bool_and' if function == 'min' else 'bool_or') ~ '(' ~ value ~ ')' -%}
      {%- else -%}
        {%- set sql = function ~ '(' ~ value ~ ')' -%}
      {%- endif -%}
      {%- do measures.append({'name': aggregate['name'] | string, 'column': column, 'sql': sql}) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(measures) }}
{%- endmacro %}
