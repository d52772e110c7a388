{#- Fails with one row per window_end x window (x slice values) of an ml_trailing_performance model whose metric is
    below min_value or above max_value; each row names the window (window_end, window_size, a `failure` sentence)
    and the value, so --store-failures and the failing-row count show which window fired. Windows with fewer than
    min_labelled labelled rows, and NULL (undefined) values, are not judged. -#}
{% test ml_trailing_metric_threshold(model, metric, min_value=none, max_value=none, window=none, min_labelled=1,
                                     last_only=false) %}
  {{ return(adapter.dispatch('test_ml_trailing_metric_threshold', 'dbt_learn')(model, metric, min_value, max_value,
      window, min_labelled, last_only)) }}
{% endtest %}

{% macro default__test_ml_trailing_metric_threshold(model, metric, min_value, max_value, window, min_labelled,
                                                    last_only) %}
  {%- if execute -%}
    {%- do dbt_learn.ml_require_bounds('ml_trailing_metric_threshold', model, min_value, max_value) -%}
  {%- endif -%}
  {{ return(dbt_learn.ml_perf_threshold_sql('ml_trailing_metric_threshold', model, metric, min_value, max_value,
      window, min_labelled, last_only)) }}
{% endmacro %}

{#- Internal, shared with ml_label_coverage: the failing windows of one metric of a trailing-performance model. -#}
{% macro ml_perf_threshold_sql(test_name, model, metric, min_value, max_value, window, min_labelled, last_only) %}
  {%- set context = "test " ~ test_name ~ " on model '" ~ model.identifier ~ "'" -%}
  {#- Checked when the test runs, so a misconfigured test is an error of that test, not of the project's parse. -#}
  {%- if execute -%}
    {%- set metrics = dbt_learn.ml_perf_trailing_metrics() | reject('equalto', 'estimate_trusted') | list -%}
    {%- if metric not in metrics -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": unknown metric '" ~ metric ~ "'; the metrics "
          ~ "of ml_trailing_performance are: " ~ metrics | join(', ')) }}
    {%- endif -%}
    {%- do dbt_learn.ml_perf_number(context, 'min_labelled', min_labelled, 0, whole=true) -%}
    {%- if last_only is not sameas true and last_only is not sameas false -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": last_only must be true or false; got "
          ~ last_only) }}
    {%- endif -%}
    {%- if window is not none -%}
      {#- A window the model does not compute would make the test pass on no rows: an error instead. -#}
      {%- set window_sql = dbt_learn.ml_perf_interval_sql(context, 'window', window) -%}
      {%- set found = run_query("select count(*) filter (where window_size = " ~ window_sql ~ "), "
          ~ "string_agg(distinct window_size::text, ', ') from " ~ model).rows[0] -%}
      {%- if found[1] is not none and found[0] == 0 -%}
        {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": window '" ~ window ~ "' is not a window of "
            ~ model ~ "; its windows are: " ~ found[1]) }}
      {%- endif -%}
    {%- endif -%}
  {%- endif -%}
  {%- set window_sql = 'interval ' ~ dbt_learn.sql_string_literal(window | trim) if window is not none else none -%}
  {%- set value = 'checked.' ~ dbt_learn.quote_identifier(metric) ~ '::double precision' -%}
  {%- set min_sql = (min_value | string) if min_value is not none else 'null' -%}
  {%- set max_sql = (max_value | string) if max_value is not none else 'null' -%}
with checked as (
    select *
    from {{ model }}
    where n_labelled >= {{ min_labelled | int }}
    {%- if window_sql is not none %}
      and window_size = {{ window_sql }}
    {%- endif %}
    {%- if last_only %}
      and window_end = (select max(window_end) from {{ model }})
    {%- endif %}
)
select
    format('%s = %s, %s, in the %s window ending %s', {{ dbt_learn.sql_string_literal(metric) }},
           round({{ value }}::numeric, 4),
           case when {{ value }} < {{ min_sql }} then 'below min_value ' || {{ min_sql }}
                else 'above max_value ' || {{ max_sql }} end,
           checked.window_size, checked.window_end) as failure,
    {{ dbt_learn.sql_string_literal(metric) }}::text as metric,
    {{ value }} as metric_value,
    {{ min_sql }}::double precision as min_value,
    {{ max_sql }}::double precision as max_value,
    checked.*
from checked
where {{ value }} < {{ min_sql }}::double precision
   or {{ value }} > {{ max_sql }}::double precision
{% endmacro %}
