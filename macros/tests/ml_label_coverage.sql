{#- Fails with one row per window_end x window (x slice values) of an ml_trailing_performance model whose label
    coverage (labelled / matured predictions) is below min_coverage. Windows with no matured prediction have no
    coverage and are not judged; a window whose matured predictions all lack labels has coverage 0 and fails. -#}
{% test ml_label_coverage(model, min_coverage, window=none, last_only=false) %}
  {{ return(adapter.dispatch('test_ml_label_coverage', 'dbt_learn')(model, min_coverage, window, last_only)) }}
{% endtest %}

{% macro default__test_ml_label_coverage(model, min_coverage, window, last_only) %}
  {%- set context = "test ml_label_coverage on model '" ~ model.identifier ~ "'" -%}
  {%- if execute -%}
    {%- do dbt_learn.ml_perf_number(context, 'min_coverage', min_coverage, 0, 1) -%}
  {%- endif -%}
  {{ return(dbt_learn.ml_perf_threshold_sql('ml_label_coverage', model, 'label_coverage', min_coverage, none, window,
      0, last_only)) }}
{% endmacro %}
