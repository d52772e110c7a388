{#- The statement that trains: one aggregate turns the training view into a single bytea of rows (features, then
    the target as float8 or as a class index), and hands it to dbt_learn.train with the spec as parameters.
    Rows are ordered by the id columns, then by their own bytes, so the batch (and with it the fit, the split and
    the data fingerprint) does not depend on the scan order. -#}
{% macro training_batch_sql(sql, features, target, task, id_columns, order_column=none, order_type=none) -%}
  {#- split 'time': the ordering column rides along after the features, as epoch seconds for dates and times. -#}
  {%- set order_bytes = "''::bytea" -%}
  {%- if order_column -%}
    {%- set order_value = "t." ~ dbt_learn.quote_identifier(order_column) -%}
    {%- if order_type.startswith('date') or order_type.startswith('timestamp') -%}
      {%- set order_value = "extract(epoch from " ~ order_value ~ ")" -%}
    {%- endif -%}
    {%- set order_bytes = "coalesce(float8send((" ~ order_value ~ ")::float8), '\\x7ff8000000000000'::bytea)" -%}
  {%- endif -%}
  {%- set quoted_target = 't.' ~ dbt_learn.quote_identifier(target) if target else none -%}
  {%- if task == 'classification' -%}
    {%- set target_bytes = "int4send((dense_rank() over (order by " ~ quoted_target ~ ") - 1)::int4)" -%}
    {%- set classes = "(array_agg(distinct __dbt_learn_target order by __dbt_learn_target) "
                      ~ "filter (where __dbt_learn_target is not null))::text[]" -%}
  {%- elif task == 'regression' -%}
    {%- set target_bytes = "float8send((" ~ quoted_target ~ ")::float8)" -%}
    {%- set classes = "null::text[]" -%}
  {%- else -%}
    {%- set target_bytes = "''::bytea" -%}
    {%- set classes = "null::text[]" -%}
  {%- endif -%}
  {%- set order_by = [] -%}
  {%- for column in id_columns -%}
    {%- do order_by.append('__dbt_learn_order_' ~ loop.index) -%}
  {%- endfor -%}
  {%- do order_by.append('__dbt_learn_row') -%}
  {#- Bind parameters are psycopg placeholders: every other % (user SQL, column names) is doubled, once. -#}
  {%- set body -%}
from (
    select
        count(*) as n_rows,
        count(*) filter (where __dbt_learn_target_missing) as null_targets,
        string_agg(__dbt_learn_row, ''::bytea order by {{ order_by | join(', ') }})
            filter (where not __dbt_learn_target_missing) as training_rows,
        {{ classes }} as classes
    from (
        select
            {%- for column in id_columns %}
            t.{{ dbt_learn.quote_identifier(column) }} as __dbt_learn_order_{{ loop.index }},
            {%- endfor %}
            {{ quoted_target if target else 'null::int' }} as __dbt_learn_target,
            {{ (quoted_target ~ ' is null') if target else 'false' }} as __dbt_learn_target_missing,
            {{ dbt_learn.feature_bytes_sql(features, 't') }} || {{ order_bytes }} || {{ target_bytes }} as __dbt_learn_row
        from (
{{ sql }}
        ) as t
    ) as training_rows
) as batch
  {%- endset -%}
select dbt_learn.train(%s, %s, %s::jsonb, batch.n_rows, batch.null_targets, batch.training_rows, batch.classes)::text
{{ body | replace('%', '%%') }}
{%- endmacro %}
