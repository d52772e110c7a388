{#- A scored row's top feature contributions (ml_score(explain=k)) as a jsonb array, largest first:
    [{"feature": "income", "contribution": 0.42}, ...]. The scoring function returns them row-major, k per row, as positions
    into the features the estimator sees (the preprocessing's outputs, model_features) and values; the row's number
    comes from unnest ... with ordinality. -#}
{% macro explanation_sql(trained, k) -%}
  {%- set names = [] -%}
  {%- for name in trained.model_features -%}
    {%- do names.append(dbt_learn.sql_string_literal(name)) -%}
  {%- endfor -%}
  {%- set k = k | int -%}
  (select jsonb_agg(jsonb_build_object('feature', (array[{{ names | join(', ') }}]::text[])[c.position + 1],
                                       'contribution', c.value) order by c.rank)
   from unnest(batch.contribution_feature[(scored.__dbt_learn_row - 1) * {{ k }} + 1 : scored.__dbt_learn_row * {{ k }}],
               batch.contribution[(scored.__dbt_learn_row - 1) * {{ k }} + 1 : scored.__dbt_learn_row * {{ k }}])
        with ordinality as c(position, value, rank))
{%- endmacro %}
