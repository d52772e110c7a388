{#- Internal helpers of ml_performance_buckets, ml_trailing_performance and their tests (area PERF): argument
    validation that names the macro and the argument, and small SQL fragments used more than once. -#}

{#- The trailing model's metric columns, in output order: the tests accept exactly these names. -#}
{% macro ml_perf_trailing_metrics() -%}
  {{ return(['n_predictions', 'n_labelled', 'n_matured', 'label_coverage', 'matured_share', 'accuracy',
             'expected_accuracy', 'calibration_error', 'estimate_trusted', 'precision', 'recall', 'f1', 'log_loss',
             'brier', 'roc_auc', 'mae', 'rmse', 'bias', 'business_value']) }}
{%- endmacro %}

{#- A validated interval argument as SQL (`interval '3 hours'`). date_bin cannot bin by months, so buckets pass
    allow_months=false. -#}
{% macro ml_perf_interval_sql(context, argument, value, allow_months=true) -%}
  {%- set units = 'second|minute|hour|day|week' ~ ('|month' if allow_months else '') -%}
  {%- if value is not string or not modules.re.match('^[1-9][0-9]{0,5} (' ~ units ~ ')s?$', value | trim) -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " must be an interval like "
        ~ "'1 hour', '3 hours' or '7 days' (a positive whole number and one of " ~ units | replace('|', ', ')
        ~ "); got '" ~ value ~ "'.") }}
  {%- endif -%}
  {{ return('interval ' ~ dbt_learn.sql_string_literal(value | trim)) }}
{%- endmacro %}

{#- A value compared with the label or prediction column: booleans and numbers as themselves, anything else as a
    quoted literal that Postgres casts to the column's type. -#}
{% macro ml_perf_value_sql(context, argument, value) -%}
  {%- if value is sameas true or value is sameas false -%}
    {{ return('true' if value else 'false') }}
  {%- elif value is number -%}
    {{ return(value | string) }}
  {%- elif value is string -%}
    {{ return(dbt_learn.sql_string_literal(value)) }}
  {%- endif -%}
  {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " must be a string, number or "
      ~ "boolean; got " ~ value) }}
{%- endmacro %}

{#- A number argument within [low, high] (integer when whole=true); returns it. -#}
{% macro ml_perf_number(context, argument, value, low=none, high=none, whole=false) -%}
  {%- set ok = value is number and value is not sameas true and value is not sameas false -%}
  {%- set ok = ok and (not whole or value | int == value) -%}
  {%- set ok = ok and (low is none or value >= low) and (high is none or value <= high) -%}
  {%- if not ok -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " must be " ~ ("a whole number"
        if whole else "a number") ~ (" from " ~ low if low is not none else "") ~ (" to " ~ high if high is not none
        else "") ~ "; got " ~ value) }}
  {%- endif -%}
  {{ return(value) }}
{%- endmacro %}

{#- A list-of-column-names argument (a single name is accepted); returns the list. -#}
{% macro ml_perf_name_list(context, argument, value) -%}
  {%- set names = [] if value is none else ([value] if value is string else value) -%}
  {%- if names is string or names is mapping or names is not iterable -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " must be a list of column names; "
        ~ "got " ~ value) }}
  {%- endif -%}
  {%- for name in names if name is not string or name == '' -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " must be a list of column names; "
        ~ "got " ~ value) }}
  {%- endfor -%}
  {{ return(names | list) }}
{%- endmacro %}

{#- Every name must be a column of relation; returns the relation's column names. -#}
{% macro ml_perf_require_columns(context, relation, argument, names) -%}
  {%- set available = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
  {%- if not available -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": relation " ~ relation ~ " does not exist or has "
        ~ "no columns. Pass a ref() of a model built before this one.") }}
  {%- endif -%}
  {%- for name in names if name not in available -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " column '" ~ name ~ "' is not "
        ~ "a column of " ~ relation ~ "; its columns are: " ~ available | join(', ')) }}
  {%- endfor -%}
  {{ return(available) }}
{%- endmacro %}

{#- A dense array of `length` elements (0-based index i at position i + 1) from parallel arrays of indexes and
    values, summing values that share an index and filling missing ones with 0. -#}
{% macro ml_perf_dense_array_sql(indexes_sql, values_sql, length, type) -%}
(select array_agg(coalesce(sparse.value, 0)::{{ type }} order by dense.i)
         from generate_series(0, {{ length - 1 }}) as dense(i)
         left join (select u.i, sum(u.value) as value from unnest({{ indexes_sql }}, {{ values_sql }}) as u(i, value)
                    group by u.i) as sparse on sparse.i = dense.i)
{%- endmacro %}

{#- The first point of the `every` grid at or after a UTC timestamp expression (a timestamp without time zone). -#}
{% macro ml_perf_ceil_sql(every, timestamp_sql) -%}
(date_trunc('{{ every }}', {{ timestamp_sql }}) + case when date_trunc('{{ every }}', {{ timestamp_sql }})
    = {{ timestamp_sql }} then interval '0' else interval '1 {{ every }}' end)
{%- endmacro %}

{#- An incremental model built by these macros must replace whole keys (delete+insert on `key`): append would count
    rows twice, and a unique_key with slice columns would keep stale rows for NULL slice values (NULL = NULL is not
    true in the delete) and for slice values that vanished from a recomputed bucket. -#}
{% macro ml_perf_require_incremental_config(context, key) -%}
  {%- if config.get('materialized') != 'incremental' -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set unique_key = config.get('unique_key') -%}
  {%- set unique_key = unique_key[0] if unique_key is not string and unique_key is iterable and unique_key | length == 1
      else unique_key -%}
  {%- if config.get('incremental_strategy') != 'delete+insert' or unique_key != key -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": an incremental model of this macro needs "
        ~ "config(materialized='incremental', incremental_strategy='delete+insert', unique_key='" ~ key ~ "'); got "
        ~ "incremental_strategy=" ~ config.get('incremental_strategy') ~ ", unique_key=" ~ config.get('unique_key')
        ~ ". Each run replaces whole " ~ key ~ " values, with every slice in them.") }}
  {%- endif -%}
{%- endmacro %}
