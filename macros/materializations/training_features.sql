{#- The feature columns of a SQL model: meta.features, or every column but the target, id and excluded columns.
    Each must be numeric or boolean: they travel to Python as float8. -#}
{% macro training_features(model, options, column_types) -%}
  {%- set skipped = [options.target, options.split_column] + options.id_columns + options.exclude_columns -%}
  {%- set names = options.features if options.features else column_types.keys() | reject('in', skipped) | list -%}
  {%- if not names -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': no feature columns are left after "
        ~ "removing the target, id and excluded columns.") }}
  {%- endif -%}
  {%- set features = [] -%}
  {%- for name in names -%}
    {%- if name not in column_types -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': feature column '" ~ name
          ~ "' from meta.features is not in the training view; its columns are: " ~ column_types.keys() | join(', ')) }}
    {%- endif -%}
    {%- if not (dbt_learn.is_numeric_type(column_types[name]) or column_types[name] in ('boolean', 'bool')) -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': feature column '" ~ name
          ~ "' has type " ~ column_types[name] ~ ", which a SQL ml_train model cannot use as a number. Encode it "
          ~ "in the training view (e.g. a case expression or extract(epoch from ...)), list it in "
          ~ "meta.exclude_columns, or use a Python model with a scikit-learn Pipeline for categorical columns.") }}
    {%- endif -%}
    {%- do features.append({'name': name, 'type': column_types[name], 'kind': 'numeric'}) -%}
  {%- endfor -%}
  {{ return(features) }}
{%- endmacro %}

{% macro is_numeric_type(data_type) -%}
  {%- set base = data_type.split('(')[0] | trim | lower -%}
  {{ return(base in ('smallint', 'integer', 'bigint', 'int2', 'int4', 'int8', 'int', 'real', 'float4', 'float8',
                     'double precision', 'numeric', 'decimal')) }}
{%- endmacro %}
