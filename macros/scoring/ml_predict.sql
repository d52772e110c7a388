{#- Row-level scoring as a SQL expression, for views, online lookups and ad-hoc queries:

      select customer_id, {{ dbt_learn.ml_predict(ref('churn_model'), 'c') }} as churn
      from {{ ref('customers') }} as c where customer_id = 42

    Emits dbt_learn.predict / predict_class / predict_proba with the model's features in training order (read from
    the registry when the model compiles): as float8 arguments when all are numeric, else as one jsonb object. Each call uses the version serving at that moment, with the
    estimator cached per connection; bulk scoring belongs to ml_score, which is 50-100x faster per row. -#}
{% macro ml_predict(model, relation_alias=none, output='value') -%}
  {{ return(adapter.dispatch('ml_predict', 'dbt_learn')(model, relation_alias, output)) }}
{%- endmacro %}

{% macro postgres__ml_predict(model, relation_alias, output) -%}
  {%- set functions = {'value': 'predict', 'class': 'predict_class', 'probabilities': 'predict_proba'} -%}
  {%- if output not in functions -%}
    {{ exceptions.raise_compiler_error("dbt_learn.ml_predict: output '" ~ output ~ "' is not one of value, class, "
                                       ~ "probabilities.") }}
  {%- endif -%}
  {%- if not execute -%}
    {{ return('null') }}
  {%- endif -%}
  {%- do dbt_learn.check_runtime() -%}
  {%- set trained = dbt_learn.trained_version(model) -%}
  {%- set alias = dbt_learn.quote_identifier(relation_alias) if relation_alias else none -%}
  {%- set arguments = [] -%}
  {%- if trained.features | rejectattr('kind', 'equalto', 'numeric') | list -%}
    {#- text or datetime features: the jsonb form, one key per feature (jsonb_build_object takes 100 arguments) -#}
    {%- set pairs = [] -%}
    {%- for feature in trained.features -%}
      {%- do pairs.append("jsonb_build_object(" ~ dbt_learn.sql_string_literal(feature.name) ~ ", "
                          ~ (alias ~ '.' if alias else '') ~ dbt_learn.quote_identifier(feature.name) ~ ")") -%}
    {%- endfor -%}
    {%- do arguments.append(pairs | join(' || ')) -%}
  {%- else -%}
    {%- for feature in trained.features -%}
      {%- do arguments.append(dbt_learn.feature_float8_sql(feature, alias)) -%}
    {%- endfor -%}
  {%- endif -%}
  dbt_learn.{{ functions[output] }}({{ dbt_learn.sql_string_literal(model.schema) }}, {{
      dbt_learn.sql_string_literal(model.identifier) }}, {{ arguments | join(', ') }})
{%- endmacro %}
