{#- Every non-null value of a scores column lies within [min_value, max_value]; returns the rows that do not.
    Nulls pass (add not_null for those), as in dbt_utils.accepted_range. -#}
{% test ml_predictions_in_range(model, column_name, min_value=none, max_value=none) %}
  {{ return(adapter.dispatch('test_ml_predictions_in_range', 'dbt_learn')(model, column_name, min_value, max_value)) }}
{% endtest %}

{% macro default__test_ml_predictions_in_range(model, column_name, min_value, max_value) %}
{%- if execute -%}
  {%- do dbt_learn.ml_require_bounds('ml_predictions_in_range', model, min_value, max_value) -%}
{%- endif -%}
select *
from {{ model }}
where {{ column_name }} is not null
  and (false
{%- if min_value is not none %}
       or {{ column_name }} < {{ min_value }}
{%- endif %}
{%- if max_value is not none %}
       or {{ column_name }} > {{ max_value }}
{%- endif %})
{% endmacro %}
