{#- The statement that trains: aggregates turn the training view into bytea blobs of rows (the numeric and datetime
    features, then the target as float8 for regressors) and one blob per text feature (text_bytes_sql), filled by
    the same aggregate so they stay in the rows' order, and hand them to dbt_learn.train with the spec as parameters. Classifiers get
    one blob per class from a GROUP BY on the target (a hash aggregate: no sort and no window function, which cost
    3.5 s at 1M rows); only the labels are sorted, and the runtime numbers the classes in that order. Regressors and
    clusterers get one blob from a plain aggregate (a GROUP BY on nothing cost 0.8 s more at 1M rows).
    Rows go in scan order, unsorted: the runtime puts them in a canonical order by their bytes, so the fit, the
    split and the data fingerprint do not depend on how Postgres read them. -#}
{% macro training_batch_sql(sql, features, target, task, order_column=none, order_type=none) -%}
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
  {%- set classify = task == 'classification' -%}
  {%- set texts = features | selectattr('kind', 'equalto', 'categorical') | list -%}
  {%- set target_bytes = "float8send((" ~ quoted_target ~ ")::float8)" if task == 'regression' else "''::bytea" -%}
  {%- set rows_sql -%}
            select
                {{ quoted_target if classify else 'null::int' }} as __dbt_learn_class,
                {{ (quoted_target ~ ' is null') if target else 'false' }} as __dbt_learn_target_missing,
                {{ dbt_learn.feature_bytes_sql(features, 't') }} || {{ order_bytes }} || {{ target_bytes }} as __dbt_learn_row
                {%- for feature in texts %},
                {{ dbt_learn.text_bytes_sql('t.' ~ dbt_learn.quote_identifier(feature.name)) }} as __dbt_learn_text_{{ loop.index }}
                {%- endfor %}
            from (
{{ sql }}
            ) as t
  {%- endset -%}
  {#- Bind parameters are psycopg placeholders: every other % (user SQL, column names) is doubled, once. -#}
  {%- set body -%}
  {%- if classify %}
from (
    select
        coalesce(sum(n_rows), 0)::bigint as n_rows,
        coalesce(sum(null_targets), 0)::bigint as null_targets,
        array_agg(rows) filter (where class is not null) as training_rows,
        (array_agg(class order by class) filter (where class is not null))::text[] as classes,
        array_agg(n_rows) filter (where class is not null) as class_rows,
        (array_agg(class) filter (where class is not null))::text[] as group_classes,
        {% if texts -%}
        array_agg(array[{% for feature in texts %}text_{{ loop.index }}{{ ', ' if not loop.last }}{% endfor %}])
            filter (where class is not null)
        {%- else -%} null::bytea[] {%- endif %} as text_columns
    from (
        select
            __dbt_learn_class as class,
            count(*) as n_rows,
            count(*) filter (where __dbt_learn_target_missing) as null_targets,
            string_agg(__dbt_learn_row, ''::bytea) filter (where not __dbt_learn_target_missing) as rows
            {%- for feature in texts %},
            string_agg(__dbt_learn_text_{{ loop.index }}, ''::bytea) filter (where not __dbt_learn_target_missing)
                as text_{{ loop.index }}
            {%- endfor %}
        from (
{{ rows_sql }}
        ) as training_rows
        group by __dbt_learn_class
    ) as groups
) as batch
  {%- else %}
from (
    select
        count(*) as n_rows,
        count(*) filter (where __dbt_learn_target_missing) as null_targets,
        array[string_agg(__dbt_learn_row, ''::bytea) filter (where not __dbt_learn_target_missing)] as training_rows,
        null::text[] as classes,
        null::bigint[] as class_rows,
        null::text[] as group_classes,
        {% if texts -%}
        array[array[
            {%- for feature in texts -%}
            coalesce(string_agg(__dbt_learn_text_{{ loop.index }}, ''::bytea)
                filter (where not __dbt_learn_target_missing), ''::bytea){{ ', ' if not loop.last }}
            {%- endfor -%}
        ]]
        {%- else -%} null::bytea[] {%- endif %} as text_columns
    from (
{{ rows_sql }}
    ) as training_rows
) as batch
  {%- endif %}
  {%- endset -%}
select dbt_learn.train(%s, %s, %s::jsonb, batch.n_rows, batch.null_targets, batch.training_rows, batch.classes,
                       batch.class_rows, batch.group_classes, batch.text_columns)::text
{{ body | replace('%', '%%') }}
{%- endmacro %}
