{#- Fails (one row) when the deployed version's holdout metric is below min_value or above max_value, or is null
    (undefined on its holdout): a serving model must show it meets the bar. Attach it to an ml_train model. -#}
{% test ml_metric_threshold(model, metric, min_value=none, max_value=none) %}
  {{ return(adapter.dispatch('test_ml_metric_threshold', 'dbt_learn')(model, metric, min_value, max_value)) }}
{% endtest %}

{% macro default__test_ml_metric_threshold(model, metric, min_value, max_value) %}
{%- if execute -%}
  {#- Checked here, not in SQL: a misspelt metric would otherwise be a null that fails for the wrong reason. -#}
  {%- do dbt_learn.ml_require_bounds('ml_metric_threshold', model, min_value, max_value) -%}
  {%- set trained = dbt_learn.ml_version_for_test('ml_metric_threshold', model, 'deployed') -%}
  {%- do dbt_learn.ml_require_metric('ml_metric_threshold', model, trained, metric) -%}
{%- endif -%}
{%- set schema_sql = dbt_learn.sql_string_literal(model.schema) -%}
{%- set name_sql = dbt_learn.sql_string_literal(model.identifier) -%}
with deployed as (
    select
        v.model_name,
        v.version,
        case when jsonb_typeof(v.metrics -> {{ dbt_learn.sql_string_literal(metric) }}) = 'number'
             then (v.metrics ->> {{ dbt_learn.sql_string_literal(metric) }})::double precision end as metric_value
    from dbt_learn.model_versions as v
    where v.model_schema = {{ schema_sql }}
      and v.model_name = {{ name_sql }}
      and v.version = dbt_learn.serving_version({{ schema_sql }}, {{ name_sql }})
)
select
    model_name,
    version as deployed_version,
    {{ dbt_learn.sql_string_literal(metric) }}::text as metric,
    metric_value,
    {{ min_value if min_value is not none else 'null' }}::double precision as min_value,
    {{ max_value if max_value is not none else 'null' }}::double precision as max_value
from deployed
where metric_value is null
{%- if min_value is not none %}
   or metric_value < {{ min_value }}
{%- endif %}
{%- if max_value is not none %}
   or metric_value > {{ max_value }}
{%- endif %}
{% endmacro %}
