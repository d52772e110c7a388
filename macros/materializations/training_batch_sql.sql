{#- The training query: one row per row of the training view, which dbt_learn.train_query reads through a cursor
    with the caller's privileges (python_models/dbt_learn/_training_read.py). Columns:
    __dbt_learn_row: the numeric and datetime features (NULL as NaN), then the ordering column of a time split, then
    a regressor's target, as big-endian float8 (float8send) - NULL when a regressor's target is NULL;
    __dbt_learn_class (the target as text) and __dbt_learn_class_value (the target, only read for its type, so the
    labels sort as the column sorts): classifiers; __dbt_learn_text_<i>: each text feature as text;
    __dbt_learn_hash, with meta.sample (or meta.partial_fit, whose holdout and preprocessing sample it picks): a 64-bit
    hash of the row's values (features, ordering column, target) and the seed, so the choice does not depend on the
    order Postgres reads the rows in.
    Rows go in scan order, unsorted: the runtime puts them in a canonical order by their bytes, so the fit, the
    split and the data fingerprint do not depend on how Postgres read them. -#}
{% macro training_batch_sql(sql, features, target, task, order_column=none, order_type=none, sample=none) -%}
  {%- set values = [] -%}
  {%- for feature in features if feature.kind != 'categorical' -%}
    {%- do values.append(('float', dbt_learn.feature_float8_sql(feature, 't'))) -%}
  {%- endfor -%}
  {#- split 'time': the ordering column rides along after the features, as epoch seconds for dates and times. -#}
  {%- set order_bytes = "''::bytea" -%}
  {%- if order_column -%}
    {%- set order_value = "t." ~ dbt_learn.quote_identifier(order_column) -%}
    {%- if order_type.startswith('date') or order_type.startswith('timestamp') -%}
      {%- set order_value = "extract(epoch from " ~ order_value ~ ")" -%}
    {%- endif -%}
    {%- set order_bytes = "coalesce(float8send((" ~ order_value ~ ")::float8), '\\x7ff8000000000000'::bytea)" -%}
    {%- do values.append(('float', '(' ~ order_value ~ ')::float8')) -%}
  {%- endif -%}
  {%- set quoted_target = 't.' ~ dbt_learn.quote_identifier(target) if target else none -%}
  {%- set target_bytes = "''::bytea" -%}
  {%- if task == 'regression' -%}
    {%- set target_bytes = "float8send((" ~ quoted_target ~ ")::float8)" -%}
    {%- do values.append(('float', '(' ~ quoted_target ~ ')::float8')) -%}
  {%- elif task == 'classification' -%}
    {%- do values.append(('text', quoted_target)) -%}
  {%- endif -%}
  {%- set texts = features | selectattr('kind', 'equalto', 'categorical') | list -%}
  {%- for feature in texts -%}
    {%- do values.append(('text', 't.' ~ dbt_learn.quote_identifier(feature.name))) -%}
  {%- endfor %}
select
    {{ dbt_learn.feature_bytes_sql(features, 't') }} || {{ order_bytes }} || {{ target_bytes }} as __dbt_learn_row
    {%- if task == 'classification' %},
    ({{ quoted_target }})::text as __dbt_learn_class,
    {{ quoted_target }} as __dbt_learn_class_value
    {%- endif %}
    {%- for feature in texts %},
    (t.{{ dbt_learn.quote_identifier(feature.name) }})::text as __dbt_learn_text_{{ loop.index }}
    {%- endfor %}
    {%- if sample %},
    {{ dbt_learn.row_hash_sql(values, sample.get('seed', 0)) }} as __dbt_learn_hash
    {%- endif %}
from (
{{ sql }}
) as t
{%- endmacro %}
