{#- The scoring subquery: number the rows, aggregate their features into one bytea, predict in one call
    (dbt_learn.predict loads the predictions back with a binary COPY), join the predictions to the rows. -#}
{% macro scoring_sql(model, relation, ids, trained) -%}
  {%- set categorical = trained.features | selectattr('kind', 'equalto', 'categorical') | list -%}
  {%- set options = {'threads_per_model': dbt_learn.get_config('dbt_learn_threads_per_model'),
                     'dbt_threads': dbt_learn.target_threads()} -%}
(
    with __dbt_learn_rows as (
        select row_number() over () as __dbt_learn_row, * from {{ relation }}
    ),
    __dbt_learn_predictions as (
        select predicted.*
        from (
            select
                count(*) as n_rows,
                string_agg({{ dbt_learn.feature_bytes_sql(trained.features, 'r') }}, ''::bytea
                           order by r.__dbt_learn_row) as features,
                {% if categorical -%}
                array_agg(array[
                    {%- for feature in categorical -%}
                    r.{{ dbt_learn.quote_identifier(feature.name) }}::text{{ ", " if not loop.last }}
                    {%- endfor -%}
                ] order by r.__dbt_learn_row)
                {%- else -%} null::text[] {%- endif %} as categorical
            from __dbt_learn_rows as r
        ) as batch
        cross join lateral dbt_learn.predict(
            {{ dbt_learn.sql_string_literal(model.schema) }}, {{ dbt_learn.sql_string_literal(model.identifier) }},
            {{ trained.version | int }}, batch.n_rows, batch.features, batch.categorical,
            {{ dbt_learn.sql_string_literal(tojson(options)) }}::jsonb
        ) as predicted
    )
    select
        {%- for column in ids %}
        r.{{ dbt_learn.quote_identifier(column) }},
        {%- endfor %}
        {{ dbt_learn.prediction_columns_sql(trained) }}
        {{ trained.version | int }} as model_version,
        now() as scored_at
    from __dbt_learn_rows as r
    join __dbt_learn_predictions as p on p.row_number = r.__dbt_learn_row
) as __dbt_learn_scores
{%- endmacro %}
