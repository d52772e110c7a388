{#- Internal helpers of ml_as_of_join and ml_trailing_aggregate (area point-in-time). Not part of the public API. -#}

{#- A string or a list of strings as a non-empty list; anything else is an error naming the argument. -#}
{% macro pit_names(macro, argument, value) -%}
  {%- set names = [value] if value is string else value -%}
  {%- if names is none or names is string or names is mapping or not (names is iterable) or names | length == 0 -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ ": " ~ argument ~ " must be a column name or a list "
        ~ "of column names, got " ~ value ~ ".") }}
  {%- endif -%}
  {%- for name in names if name is not string or name == '' -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ ": " ~ argument ~ " must hold column names (strings), "
        ~ "got " ~ value ~ ".") }}
  {%- endfor -%}
  {{ return(names | list) }}
{%- endmacro %}

{#- The columns of a relation as {'names': [...], 'types': {name: lowercase data_type}}, read once per relation. -#}
{% macro pit_columns(macro, relation) -%}
  {%- set columns = adapter.get_columns_in_relation(relation) -%}
  {%- if not columns -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ relation ~ "): the relation does not exist or "
        ~ "has no columns. Pass a ref() or source() of a built relation.") }}
  {%- endif -%}
  {%- set types = {} -%}
  {%- for column in columns -%}
    {%- do types.update({column.name: column.data_type | lower}) -%}
  {%- endfor -%}
  {{ return({'names': columns | map(attribute='name') | list, 'types': types}) }}
{%- endmacro %}

{#- Every name in `names` is a column of the relation, else an error naming the relation, argument and column. -#}
{% macro pit_require(macro, relation, columns, argument, names) -%}
  {%- for name in names if name not in columns.names -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ relation ~ "): " ~ argument ~ " '" ~ name
        ~ "' is not a column of " ~ relation ~ "; its columns are: " ~ columns.names | join(', ')
        ~ ". Fix the name or add the column to the model that builds it.") }}
  {%- endfor -%}
{%- endmacro %}

{#- A mapping argument (a feature source, an aggregate) has only known keys and its required ones: a misspelt
    'known_at_column' must not silently turn the leak guard off. -#}
{% macro pit_check_keys(macro, argument, value, allowed, required) -%}
  {%- if value is not mapping -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ ": " ~ argument ~ " must be a dict with keys "
        ~ allowed | join(', ') ~ ", got " ~ value ~ ".") }}
  {%- endif -%}
  {%- for key in value if key not in allowed -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ ": " ~ argument ~ " has an unknown key '" ~ key
        ~ "'; the keys are: " ~ allowed | join(', ') ~ ".") }}
  {%- endfor -%}
  {%- for key in required if value.get(key) is none -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ ": " ~ argument ~ " needs a '" ~ key ~ "'.") }}
  {%- endfor -%}
{%- endmacro %}

{#- The spine: its columns (quoted, as they are), the entity expressions and the point-in-time expression (a
    timestamptz: the time column read by monitoring_time_sql, or as_of_sql() when time_column is none, in which case
    an `as_of` column is added). Output names already taken go into `taken`. -#}
{% macro pit_spine(macro, spine, entity_column, time_column, alias='spine') -%}
  {%- set columns = dbt_learn.pit_columns(macro, spine) -%}
  {%- set entities = dbt_learn.pit_names(macro, 'entity_column', entity_column) -%}
  {%- do dbt_learn.pit_require(macro, spine, columns, 'entity_column', entities) -%}
  {%- set select = [] -%}
  {%- for name in columns.names -%}
    {%- do select.append(alias ~ '.' ~ dbt_learn.quote_identifier(name)) -%}
  {%- endfor -%}
  {%- set taken = columns.names | list -%}
  {%- if time_column is none -%}
    {%- if 'as_of' in taken -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ spine ~ "): the serving spine (time_column "
          ~ "none) gets an 'as_of' column, but " ~ spine ~ " already has one. Rename it, or pass "
          ~ "time_column='as_of'.") }}
    {%- endif -%}
    {%- set time = dbt_learn.as_of_sql() -%}
    {%- do select.append(time ~ ' as as_of') -%}
    {%- do taken.append('as_of') -%}
  {%- else -%}
    {%- do dbt_learn.pit_require(macro, spine, columns, 'time_column', [time_column]) -%}
    {%- set time = dbt_learn.monitoring_time_sql(spine, time_column, alias, 'time_column') -%}
  {%- endif -%}
  {%- set keys = [] -%}
  {%- for name in entities -%}
    {%- do keys.append(alias ~ '.' ~ dbt_learn.quote_identifier(name)) -%}
  {%- endfor -%}
  {{ return({'select': select, 'time': time, 'entity_keys': keys, 'taken': taken}) }}
{%- endmacro %}

{#- Add output names to `taken`, failing on a duplicate with a hint (`where` says which argument made it). -#}
{% macro pit_claim(macro, relation, taken, names, where, hint) -%}
  {%- for name in names -%}
    {%- if name in taken -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ relation ~ "): output column '" ~ name
          ~ "' (from " ~ where ~ ") is already taken by the spine or another argument. " ~ hint) }}
    {%- endif -%}
    {%- do taken.append(name) -%}
  {%- endfor -%}
{%- endmacro %}

{#- A positive interval such as '3 hours', validated, as a SQL interval literal. -#}
{% macro pit_interval(macro, argument, value) -%}
  {%- set text = value | string | trim | lower -%}
  {%- if not modules.re.match('^[0-9]+ (second|minute|hour|day|week|month)s?$', text)
         or (text.split(' ')[0] | int) == 0 -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ ": " ~ argument ~ " '" ~ value ~ "' is not a positive "
        ~ "interval like '3 hours'; write '<whole number> <second|minute|hour|day|week|month>[s]'.") }}
  {%- endif -%}
  {{ return('interval ' ~ dbt_learn.sql_string_literal(text)) }}
{%- endmacro %}

{#- A deterministic ordering key for a tie-break column: text in byte order (the C collation, the same on every
    database), json/xml through text; other types order as they are. -#}
{% macro pit_order_key(expression, data_type) -%}
  {%- if data_type in ('text', 'name', 'citext') or data_type.startswith('character') -%}
    {{ return(expression ~ ' collate "C"') }}
  {%- elif data_type in ('json', 'xml') -%}
    {{ return(expression ~ '::text collate "C"') }}
  {%- endif -%}
  {{ return(expression) }}
{%- endmacro %}

{#- `a = b` for each entity column pair. -#}
{% macro pit_entity_match(left, right) -%}
  {%- set pairs = [] -%}
  {%- for l in left -%}
    {%- do pairs.append(l ~ ' = ' ~ right[loop.index0]) -%}
  {%- endfor -%}
  {{ return(pairs | join(' and ')) }}
{%- endmacro %}
