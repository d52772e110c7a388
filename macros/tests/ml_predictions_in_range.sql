{#- Every non-null value of a scores column lies within [min_value, max_value]; returns the rows that do not.
    The range itself is dbt_utils.accepted_range (inclusive bounds; nulls pass, add not_null for those); this test
    adds the argument checks that make a missing or non-numeric bound a compilation error naming the model. -#}
{% test ml_predictions_in_range(model, column_name, min_value=none, max_value=none) %}
  {{ return(adapter.dispatch('test_ml_predictions_in_range', 'dbt_learn')(model, column_name, min_value, max_value)) }}
{% endtest %}

{% macro default__test_ml_predictions_in_range(model, column_name, min_value, max_value) %}
{%- if execute -%}
  {%- do dbt_learn.ml_require_bounds('ml_predictions_in_range', model, min_value, max_value) -%}
{%- endif -%}
{{ dbt_utils.test_accepted_range(model, column_name, min_value=min_value, max_value=max_value, inclusive=true) }}
{% endmacro %}
