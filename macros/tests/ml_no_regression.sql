{#- The newest version must not be worse than the version that served when it was trained (the last deployment
    before its trained_at; for a model with no deployment then, the newest earlier version, which served by the
    registry's rule), beyond `tolerance`. Passes when nothing served before it, or that version lacks the metric.
    One failing row shows both versions and values. Attach it to an ml_train model. -#}
{% test ml_no_regression(model, metric, tolerance=0, direction=none) %}
  {{ return(adapter.dispatch('test_ml_no_regression', 'dbt_learn')(model, metric, tolerance, direction)) }}
{% endtest %}

{% macro default__test_ml_no_regression(model, metric, tolerance, direction) %}
{%- set direction = direction or dbt_learn.ml_metric_direction(metric) -%}
{%- if execute -%}
  {%- if direction not in ['higher', 'lower'] -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context('ml_no_regression', model) ~ ": direction must "
        ~ "be 'higher' or 'lower' (which values are better); got '" ~ direction ~ "'.") }}
  {%- endif -%}
  {%- if tolerance is not number or tolerance is sameas true or tolerance is sameas false or tolerance < 0 -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context('ml_no_regression', model) ~ ": tolerance must be "
        ~ "a number >= 0 (an absolute difference of the metric); got " ~ tolerance) }}
  {%- endif -%}
  {%- set newest = dbt_learn.ml_version_for_test('ml_no_regression', model, 'newest') -%}
  {%- do dbt_learn.ml_require_metric('ml_no_regression', model, newest, metric) -%}
{%- endif -%}
{%- set schema_sql = dbt_learn.sql_string_literal(model.schema) -%}
{%- set name_sql = dbt_learn.sql_string_literal(model.identifier) -%}
{%- set metric_sql = dbt_learn.sql_string_literal(metric) -%}
with versions as (
    select
        version,
        trained_at,
        case when jsonb_typeof(metrics -> {{ metric_sql }}) = 'number'
             then (metrics ->> {{ metric_sql }})::double precision end as metric_value
    from dbt_learn.model_versions
    where model_schema = {{ schema_sql }} and model_name = {{ name_sql }}
),

newest as (
    select * from versions order by version desc limit 1
),

baseline as (
    select v.version, v.metric_value
    from versions as v
    where v.version = coalesce(
        (select d.version
         from dbt_learn.deployments as d, newest as n
         where d.model_schema = {{ schema_sql }} and d.model_name = {{ name_sql }} and d.deployed_at < n.trained_at
         order by d.deployed_at desc, d.deployment_id desc
         limit 1),
        (select max(e.version) from versions as e, newest as n where e.version < n.version))
),

compared as (
    select
        {{ name_sql }}::text as model_name,
        {{ metric_sql }}::text as metric,
        '{{ direction }}'::text as better,
        b.version as baseline_version,
        b.metric_value as baseline_value,
        n.version as newest_version,
        n.metric_value as newest_value,
        {{ tolerance }}::double precision as tolerance,
        n.metric_value - b.metric_value as change
    from newest as n
    cross join baseline as b
    where b.metric_value is not null
)

select *
from compared
where newest_value is null
{%- if direction == 'higher' %}
   or newest_value < baseline_value - tolerance
{%- else %}
   or newest_value > baseline_value + tolerance
{%- endif %}
{% endmacro %}
