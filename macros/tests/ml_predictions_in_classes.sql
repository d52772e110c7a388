{#- Every non-null prediction is a class of trained_model's deployed version (or of `version`); returns the rows
    whose prediction is not. Classes are stored as text, so the column is compared as text. -#}
{% test ml_predictions_in_classes(model, column_name, trained_model, version=none) %}
  {{ return(adapter.dispatch('test_ml_predictions_in_classes', 'dbt_learn')(model, column_name, trained_model,
                                                                             version)) }}
{% endtest %}

{% macro default__test_ml_predictions_in_classes(model, column_name, trained_model, version) %}
{%- if execute -%}
  {%- do dbt_learn.ml_require_relation('ml_predictions_in_classes', model, 'trained_model', trained_model) -%}
  {%- set trained = dbt_learn.ml_version_for_test('ml_predictions_in_classes', trained_model, 'deployed', version) -%}
  {%- if trained.task != 'classification' or not trained.classes -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context('ml_predictions_in_classes', trained_model)
        ~ ": version " ~ trained.version ~ " is a " ~ trained.task ~ " model; it has no classes to check "
        ~ column_name ~ " of " ~ model.identifier ~ " against. Use ml_predictions_in_range for numbers.") }}
  {%- endif -%}
{%- endif -%}
{%- set schema_sql = dbt_learn.sql_string_literal(trained_model.schema) -%}
{%- set name_sql = dbt_learn.sql_string_literal(trained_model.identifier) -%}
with trained_classes as (
    select unnest(v.classes) as trained_class
    from dbt_learn.model_versions as v
    where v.model_schema = {{ schema_sql }}
      and v.model_name = {{ name_sql }}
      and v.version = {{ version | int if version is not none
                         else 'dbt_learn.serving_version(' ~ schema_sql ~ ', ' ~ name_sql ~ ')' }}
)

select *
from {{ model }}
where {{ column_name }} is not null
  -- Outside the subquery, so column_name may be any expression over the scores (classes are never null).
  and ({{ column_name }})::text not in (select trained_class from trained_classes)
{% endmacro %}
