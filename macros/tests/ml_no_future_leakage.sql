{#- Point-in-time leakage: a feature's time column (the event_time or known_at of the row a value came from) must
    not be later than the spine time of the row it was attached to. Returns every leaked row - the model's columns
    plus leaked_column and leaked_by (how far in the future) - so store_failures shows which rows leaked. A row with
    a feature time but a NULL spine time fails too (nothing proves it was known); a NULL feature time passes (no
    value was attached). Both columns are compared on one UTC clock (dbt_learn.monitoring_time_sql). -#}
{% test ml_no_future_leakage(model, column_name, spine_time_column) %}
  {{ return(adapter.dispatch('test_ml_no_future_leakage', 'dbt_learn')(model, column_name, spine_time_column)) }}
{% endtest %}

{% macro default__test_ml_no_future_leakage(model, column_name, spine_time_column) %}
{%- if not execute -%}
  {{ return('select 1 where false') }}
{%- endif -%}
{%- set columns = dbt_learn.pit_columns('ml_no_future_leakage', model) -%}
{%- do dbt_learn.pit_require('ml_no_future_leakage', model, columns, 'spine_time_column', [spine_time_column]) -%}
{%- for name in ('leaked_column', 'leaked_by') if name in columns.names -%}
  {{ exceptions.raise_compiler_error("dbt_learn: ml_no_future_leakage(" ~ model ~ "): the model has a column '" ~ name
      ~ "', which the test adds to each failing row. Rename it in the model.") }}
{%- endfor -%}
{%- set feature_time = dbt_learn.monitoring_time_sql(model, column_name, 'checked', 'column_name') -%}
{%- set spine_time = dbt_learn.monitoring_time_sql(model, spine_time_column, 'checked', 'spine_time_column') -%}
select
    checked.*,
    {{ dbt_learn.sql_string_literal(column_name) }} as leaked_column,
    {{ feature_time }} - {{ spine_time }} as leaked_by
from {{ model }} as checked
where {{ feature_time }} > {{ spine_time }}
   or ({{ spine_time }} is null and {{ feature_time }} is not null)
{% endmacro %}
