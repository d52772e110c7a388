{#- Shared by the model-quality tests: which version a test checks, the metric vocabulary, and the compile-time
    checks that turn a misconfigured test into an error naming the model, rather than a test that silently passes.
    The tests' SQL reads the registry itself (so the compiled SQL and store_failures show what was compared); these
    helpers only validate, when the test compiles for execution (dbt compiles a test just before running it, after
    its model), so a misconfigured test is an error of that test alone, never a parse error of the whole project. -#}

{#- Each task's metrics in order, from the registry's metric_definitions (the installed runtime's catalog). -#}
{% macro ml_task_metrics() -%}
  {%- set metrics = {} -%}
  {%- for task, names in dbt_learn.fetch_rows(
      "select task, array_agg(metric order by position) from dbt_learn.metric_definitions group by task", []) -%}
    {%- do metrics.update({task: names | list}) -%}
  {%- endfor -%}
  {{ return(metrics) }}
{%- endmacro %}

{#- 'lower' or 'higher': which way the metric is better, from metric_definitions. Tests render at parse time too,
    when no query may run; the direction only matters when the test compiles for execution. -#}
{% macro ml_metric_direction(metric) -%}
  {%- if not execute -%}
    {{ return('higher') }}
  {%- endif -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select bool_and(higher_is_better) from dbt_learn.metric_definitions where metric = %s", [metric]) -%}
  {{ return('lower' if rows[0][0] is sameas false else 'higher') }}
{%- endmacro %}

{#- The start of every error these tests raise: which test, on which model. -#}
{% macro ml_test_context(test_name, model) -%}
  {{ return("dbt_learn: test " ~ test_name ~ " on model '" ~ model.identifier ~ "' (schema " ~ model.schema ~ ")") }}
{%- endmacro %}

{#- A relation argument (ref()), not a name: a plain string would give the test no dependency on that model. -#}
{% macro ml_require_relation(test_name, model, argument, value) -%}
  {%- if value is string or value.identifier is not defined or value.schema is not defined -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context(test_name, model) ~ ": argument " ~ argument
        ~ " must be a ref() of an ml_train model, e.g. " ~ argument ~ ": ref('my_model'); got '" ~ value ~ "'.") }}
  {%- endif -%}
{%- endmacro %}

{% macro ml_require_bounds(test_name, model, min_value, max_value) -%}
  {%- if min_value is none and max_value is none -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context(test_name, model)
        ~ ": give min_value, max_value or both.") }}
  {%- endif -%}
  {%- for bound in [min_value, max_value] -%}
    {%- if bound is not none and (bound is not number or bound is sameas true or bound is sameas false) -%}
      {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context(test_name, model)
          ~ ": min_value and max_value must be numbers; got " ~ bound) }}
    {%- endif -%}
  {%- endfor -%}
{%- endmacro %}

{#- One registry row, as a dict: the pinned version, the deployed one ('deployed'), or the newest ('newest').
    Raises when the model has no such version. Only call it when `execute` is true. -#}
{% macro ml_version_for_test(test_name, model, which='deployed', version=none) -%}
  {%- set rows = dbt_learn.fetch_rows(
      "with wanted as (select %s::text as model_schema, %s::text as model_name, %s::int as pinned, %s::text as which)
       select v.version, v.task, v.metrics::text, v.classes, v.holdout_rows,
              (select string_agg(a.version::text, ', ' order by a.version) from dbt_learn.model_versions as a
               where a.model_schema = w.model_schema and a.model_name = w.model_name)
       from wanted as w
       left join dbt_learn.model_versions as v
         on v.model_schema = w.model_schema and v.model_name = w.model_name
        and v.version = case
              when w.pinned is not null then w.pinned
              when w.which = 'newest' then (select max(n.version) from dbt_learn.model_versions as n
                                            where n.model_schema = w.model_schema and n.model_name = w.model_name)
              else dbt_learn.serving_version(w.model_schema, w.model_name) end",
      [model.schema, model.identifier, version, which]) -%}
  {%- set row = rows[0] -%}
  {%- if row[5] is none -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context(test_name, model) ~ ": the model has no trained "
        ~ "version in the registry. Is it an ml_train model? Train it first: dbt run -s " ~ model.identifier
        ~ " (dbt build trains it before its tests).") }}
  {%- endif -%}
  {%- if row[0] is none -%}
    {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context(test_name, model) ~ ": the model has no version "
        ~ version ~ "; its versions are: " ~ row[5] ~ ".") }}
  {%- endif -%}
  {{ return({'version': row[0], 'task': row[1], 'metrics': fromjson(row[2]), 'classes': row[3],
             'holdout_rows': row[4]}) }}
{%- endmacro %}

{#- Refuse a metric the version does not record: an unknown name, another task's metric, or one of its task's
    metrics that could not be computed (no holdout, roc_auc of a multiclass model...). Lists those that exist. -#}
{% macro ml_require_metric(test_name, model, trained, metric) -%}
  {%- set recorded = [] -%}
  {%- for name, value in trained.metrics.items() | sort -%}
    {#- Numbers only (null when undefined on the holdout): confusion_matrix and cluster_sizes are not comparable. -#}
    {%- if value is none or (value is number and value is not sameas true and value is not sameas false) -%}
      {%- do recorded.append(name) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- if metric in recorded -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set task_metrics = dbt_learn.ml_task_metrics() -%}
  {%- set owners = [] -%}
  {%- for task, names in task_metrics.items() if metric in names -%}
    {%- do owners.append(task) -%}
  {%- endfor -%}
  {%- if owners and trained.task not in owners -%}
    {%- set why = "'" ~ metric ~ "' is a " ~ owners | join('/') ~ " metric, and this is a " ~ trained.task
        ~ " model" -%}
  {%- elif owners and trained.holdout_rows == 0 -%}
    {%- set why = "version " ~ trained.version ~ " has no '" ~ metric ~ "': it was trained without a holdout "
        ~ "(meta.holdout_size 0), so it has no holdout metrics" -%}
  {%- elif owners -%}
    {%- set why = "version " ~ trained.version ~ " has no '" ~ metric ~ "' (it is not defined for this model's "
        ~ "holdout, e.g. roc_auc needs two classes, roc_auc_ovr more)" -%}
  {%- else -%}
    {%- set why = "unknown metric '" ~ metric ~ "'; " ~ trained.task ~ " metrics are: "
        ~ task_metrics.get(trained.task, []) | join(', ') -%}
  {%- endif -%}
  {{ exceptions.raise_compiler_error(dbt_learn.ml_test_context(test_name, model) ~ ": " ~ why ~ ". Metrics of version "
      ~ trained.version ~ ": " ~ (recorded | join(', ') if recorded else 'none') ~ ".") }}
{%- endmacro %}
