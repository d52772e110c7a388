{#- Fails with one row per bucket x feature of a drift model (ml_feature_drift, ml_prediction_drift) whose metric
    is above max_value, naming the bucket, the feature and the value; NULL metrics (no non-null values) pass. -#}
{% test ml_drift_threshold(model, metric='psi', max_value=0.25, features=none, last_only=false) %}
  {{ return(adapter.dispatch('test_ml_drift_threshold', 'dbt_learn')(model, metric, max_value, features,
                                                                     last_only)) }}
{% endtest %}

{% macro default__test_ml_drift_threshold(model, metric, max_value, features, last_only) %}
{%- set metrics = ['psi', 'js_distance', 'ks_statistic', 'null_share'] -%}
{%- set wanted = [features] if features is string else features -%}
{#- Checked when the test runs, not at parse time, so a misconfigured test is an error of that test alone. -#}
{%- if execute -%}
{%- set context = dbt_learn.ml_test_context('ml_drift_threshold', model) -%}
{%- if metric not in metrics -%}
  {{ exceptions.raise_compiler_error(context ~ ": unknown metric '" ~ metric ~ "'; drift metrics are: "
      ~ metrics | join(', ') ~ ".") }}
{%- endif -%}
{%- if max_value is not number or max_value is sameas true or max_value is sameas false -%}
  {{ exceptions.raise_compiler_error(context ~ ": max_value must be a number; got " ~ max_value ~ ".") }}
{%- endif -%}
{%- if wanted is not none and (wanted is mapping or wanted is not iterable or not wanted
                               or wanted | reject('string') | list) -%}
  {{ exceptions.raise_compiler_error(context ~ ": features must be a feature name or a non-empty list of them; got "
      ~ features ~ ".") }}
{%- endif -%}
{%- if last_only is not sameas true and last_only is not sameas false -%}
  {{ exceptions.raise_compiler_error(context ~ ": last_only must be true or false; got " ~ last_only ~ ".") }}
{%- endif -%}
{%- endif -%}
{%- set names = [] -%}
{%- for name in (wanted if wanted is not string and wanted is iterable else []) -%}
  {%- do names.append(dbt_learn.sql_string_literal(name)) -%}
{%- endfor -%}
with drift as (
    select * from {{ model }}
    {%- if names %}
    where feature in ({{ names | join(', ') }})
    {%- endif %}
)

select
    bucket_start,
    feature,
    {{ dbt_learn.sql_string_literal(metric) }}::text as metric,
    {{ metric }} as value,
    {{ max_value }}::double precision as max_value,
    band,
    n
from drift
where {{ metric }} > {{ max_value }}
{%- if last_only %}
  and bucket_start = (select max(latest.bucket_start) from drift as latest)
{%- endif %}
{% endmacro %}
