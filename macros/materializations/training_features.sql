{#- The feature columns of a SQL model: meta.features, or every column but the target, id and excluded columns, each
    with its kind: `numeric` (numbers, booleans, intervals, times of day; float8 on the wire), `datetime` (dates and
    timestamps; epoch seconds on the wire, split into parts by the preprocessing) or `categorical` (text, varchar,
    char, enums; text on the wire). With meta.preprocessing 'off' only numeric columns are accepted. -#}
{% macro training_features(model, options, column_types) -%}
  {%- set skipped = [options.target, options.split_column] + options.id_columns + options.exclude_columns -%}
  {%- set names = options.features if options.features else column_types.keys() | reject('in', skipped) | list -%}
  {%- if not names -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': no feature columns are left after "
        ~ "removing the target, id and excluded columns.") }}
  {%- endif -%}
  {%- set preprocessing_off = options.preprocessing in ('off', false, none) -%}
  {%- set features = [] -%}
  {%- for name in names -%}
    {%- if name not in column_types -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': feature column '" ~ name
          ~ "' from meta.features is not in the training view; its columns are: " ~ column_types.keys() | join(', ')) }}
    {%- endif -%}
    {%- set type = column_types[name].type -%}
    {%- set kind = dbt_learn.feature_kind(type, column_types[name].category) -%}
    {%- if kind is none -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': feature column '" ~ name
          ~ "' has type " ~ type ~ ", which dbt_learn cannot use as a feature (it takes numbers, booleans, "
          ~ "intervals, dates, timestamps, text and enums). Cast or derive a usable column in the training view, "
          ~ "or list it in meta.exclude_columns.") }}
    {%- endif -%}
    {%- if preprocessing_off and kind != 'numeric' -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': feature column '" ~ name
          ~ "' has type " ~ type ~ " and meta.preprocessing is 'off', so only numeric columns can be used. Remove "
          ~ "the preprocessing option (it encodes " ~ kind ~ " columns), encode the column in the training view, "
          ~ "or list it in meta.exclude_columns.") }}
    {%- endif -%}
    {%- do features.append({'name': name, 'type': type, 'kind': kind}) -%}
  {%- endfor -%}
  {{ return(features) }}
{%- endmacro %}

{#- numeric, datetime or categorical from a Postgres type and its pg_type category; none when unusable. -#}
{% macro feature_kind(data_type, category) -%}
  {%- set base = data_type.split('(')[0] | trim | lower -%}
  {%- if category in ('N', 'B', 'T') or base.startswith('time ') or base in ('time', 'timetz') -%}
    {{ return('numeric') }}
  {%- elif category == 'D' -%}
    {{ return('datetime') }}
  {%- elif category in ('S', 'E') -%}
    {{ return('categorical') }}
  {%- endif -%}
  {{ return(none) }}
{%- endmacro %}

{% macro is_numeric_type(data_type) -%}
  {%- set base = data_type.split('(')[0] | trim | lower -%}
  {{ return(base in ('smallint', 'integer', 'bigint', 'int2', 'int4', 'int8', 'int', 'real', 'float4', 'float8',
                     'double precision', 'numeric', 'decimal')) }}
{%- endmacro %}
