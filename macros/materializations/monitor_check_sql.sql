{#- Plain SQL that reads the newest period of one retrain_on monitor: among the rows the rule's `where` keeps and whose
    time is after `since_sql` (the newest version's training moment, plus the cooldown), the rows with the latest time.
    It returns that period's worst row: time (UTC, ISO 8601), value, is_breach, breaching rows, rows in the period,
    then the text columns that name the row (feature, window, ...). No row: no period newer than the training.
    Monitor columns are checked first, with errors that name the rule and list the columns. -#}
{% macro monitor_check_sql(model, rule, index, monitor, since_sql) -%}
  {%- set at = "dbt_learn: model '" ~ model.name ~ "': meta.retrain_on[" ~ index ~ "] (monitor " ~ monitor ~ ")" -%}
  {%- set columns = adapter.get_columns_in_relation(monitor) -%}
  {%- set types = {} -%}
  {%- for column in columns -%}
    {%- do types.update({column.name: column.data_type | lower}) -%}
  {%- endfor -%}
  {%- set listing = "; its columns are: " ~ types.keys() | join(', ') -%}
  {%- if rule.metric not in types -%}
    {{ exceptions.raise_compiler_error(at ~ ": metric column '" ~ rule.metric ~ "' not found" ~ listing
        ~ ". Fix meta.retrain_on[" ~ index ~ "].metric.") }}
  {%- endif -%}
  {%- if not dbt_learn.is_numeric_type(types[rule.metric]) -%}
    {{ exceptions.raise_compiler_error(at ~ ": metric column '" ~ rule.metric ~ "' has type " ~ types[rule.metric]
        ~ "; a retrain_on metric must be a number. Cast it in the monitor model or choose a numeric column.") }}
  {%- endif -%}
  {%- set time_column = rule.time_column -%}
  {%- if not time_column -%}
    {%- set defaults = ['window_end', 'bucket_start'] | select('in', types) | list -%}
    {%- if not defaults -%}
      {{ exceptions.raise_compiler_error(at ~ ": no time column; set meta.retrain_on[" ~ index ~ "].time_column to "
          ~ "the column that orders its periods (the default is window_end, else bucket_start)" ~ listing) }}
    {%- endif -%}
    {%- set time_column = defaults[0] -%}
  {%- endif -%}
  {%- if time_column not in types -%}
    {{ exceptions.raise_compiler_error(at ~ ": time column '" ~ time_column ~ "' not found" ~ listing
        ~ ". Fix meta.retrain_on[" ~ index ~ "].time_column.") }}
  {%- endif -%}
  {%- if not (types[time_column].startswith('timestamp') or types[time_column] == 'date') -%}
    {{ exceptions.raise_compiler_error(at ~ ": time column '" ~ time_column ~ "' has type " ~ types[time_column]
        ~ "; it must be a timestamptz, timestamp (read as UTC) or date. Cast it in the monitor model or set "
        ~ "meta.retrain_on[" ~ index ~ "].time_column to another column.") }}
  {%- endif -%}
  {%- set time_sql = dbt_learn.monitoring_time_sql(monitor, time_column, 'm',
                                                  'meta.retrain_on[' ~ index ~ '].time_column') -%}
  {%- set filters = [] -%}
  {%- for column, wanted in rule.where.items() -%}
    {%- if column not in types -%}
      {{ exceptions.raise_compiler_error(at ~ ": where column '" ~ column ~ "' not found" ~ listing ~ ".") }}
    {%- endif -%}
    {%- set quoted = 'm.' ~ dbt_learn.quote_identifier(column) -%}
    {%- set values = wanted if (wanted is iterable and wanted is not string) else [wanted] -%}
    {#- Untyped literals take the column's type (text, numbers, booleans, intervals alike). -#}
    {%- set literals = [] -%}
    {%- for value in values if value is not none -%}
      {%- do literals.append(dbt_learn.sql_string_literal(value)) -%}
    {%- endfor -%}
    {%- set tests = ([quoted ~ ' in (' ~ literals | join(', ') ~ ')'] if literals else [])
                    + ([quoted ~ ' is null'] if none in values else []) -%}
    {%- do filters.append('(' ~ tests | join(' or ') ~ ')') -%}
  {%- endfor -%}
  {#- How far past its threshold a value is: > 0 is a breach; NULL (no value) never is. -#}
  {%- set excess = [] -%}
  {%- if rule.max_value is not none -%}
    {%- do excess.append("__dbt_learn_value - " ~ dbt_learn.sql_string_literal(rule.max_value) ~ "::float8") -%}
  {%- endif -%}
  {%- if rule.min_value is not none -%}
    {%- do excess.append(dbt_learn.sql_string_literal(rule.min_value) ~ "::float8 - __dbt_learn_value") -%}
  {%- endif -%}
  {#- The columns that name the worst row in the reason: text and interval columns (feature, band, window_size, slice
      values), each shown when it is a where column or when it tells the rows of the period apart. -#}
  {%- set labels = [] -%}
  {%- for name, type in types.items() if name not in (rule.metric, time_column) and (type in ('text', 'interval')
                                                  or type.startswith('character') or type == 'name') -%}
    {%- do labels.append(name) -%}
  {%- endfor -%}
  {%- set labels = labels[:8] -%}
with monitor as (
    select
        {{ time_sql }} as __dbt_learn_time,
        nullif((m.{{ dbt_learn.quote_identifier(rule.metric) }})::float8, 'NaN'::float8) as __dbt_learn_value
        {%- for label in labels %},
        (m.{{ dbt_learn.quote_identifier(label) }})::text as __dbt_learn_label_{{ loop.index }}
        {%- endfor %}
    from {{ monitor }} as m
    where {{ filters | join(' and ') if filters else 'true' }}
),
period as (
    select *, {{ 'greatest(' ~ excess | join(', ') ~ ')' if excess | length > 1 else excess[0] }} as __dbt_learn_excess,
        count(*) over () as __dbt_learn_period_rows
    from monitor
    where __dbt_learn_time = (select max(__dbt_learn_time) from monitor where __dbt_learn_time > {{ since_sql }})
)
select
    to_char(__dbt_learn_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') as period,
    __dbt_learn_value as value,
    coalesce(__dbt_learn_excess > 0, false) as is_breach,
    count(*) filter (where __dbt_learn_excess > 0) over () as breaching_rows,
    __dbt_learn_period_rows as period_rows,
    {{ dbt_learn.sql_string_literal(time_column) }} as time_column
    {%- for label in labels %}
    {%- set value = '__dbt_learn_label_' ~ loop.index %},
    case when {{ 'true' if label in rule.where else 'min(' ~ value ~ ') over () is distinct from max(' ~ value
                                                         ~ ') over ()' }}
         then {{ dbt_learn.sql_string_literal(label) }} || '=' || coalesce({{ value }}, 'null') end
    {%- endfor %}
from period
order by __dbt_learn_excess desc nulls last
limit 1
{%- endmacro %}
