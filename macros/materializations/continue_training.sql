{#- Drive a training call that answered {"pending": true, "token": ..., "progress": {...}} (a meta.search still
    running) to its end: call dbt_learn.train_continue(token) until the answer is final, logging one progress line
    per call ("dbt_learn: churn_model search 12/40 candidates, best f1_macro=0.9312 (C=1.0, ...)"). Returns the
    final answer, which has the shape of a training call without a search (plus a `search` summary, also logged).
    Any other answer is returned as it is. -#}
{% macro continue_training(model, result) -%}
  {{ return(adapter.dispatch('continue_training', 'dbt_learn')(model, result)) }}
{%- endmacro %}

{% macro default__continue_training(model, result) -%}
  {%- if result is mapping and result.get('pending') -%}
    {{ exceptions.raise_compiler_error("dbt_learn: hyperparameter search runs in PL/Python: Postgres only.") }}
  {%- endif -%}
  {{ return(result) }}
{%- endmacro %}

{% macro postgres__continue_training(model, result) -%}
  {%- set state = {'result': result} -%}
  {%- if result is mapping and result.get('pending') -%}
    {{ log("dbt_learn: " ~ model.name ~ " search " ~ result.progress.text, info=True) }}
    {#- Every call runs at least one candidate, so total + 1 calls always suffice (Jinja has no while; the
        iterations after the search ended do nothing). -#}
    {%- for _ in range(result.progress.total + 1) -%}
      {%- if state.result.get('pending') -%}
        {%- set answer = dbt_learn.call_runtime("select dbt_learn.train_continue(%s)::text",
                                                [state.result.token]) -%}
        {%- do state.update({'result': answer}) -%}
        {%- if answer.get('pending') -%}
          {{ log("dbt_learn: " ~ model.name ~ " search " ~ answer.progress.text, info=True) }}
        {%- endif -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if state.result.get('pending') -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': the hyperparameter search did "
          ~ "not finish within " ~ (result.progress.total + 1) ~ " calls; rerun the model.") }}
    {%- endif -%}
  {%- endif -%}
  {%- if state.result is mapping and state.result.get('search') -%}
    {{ log("dbt_learn: " ~ model.name ~ " " ~ state.result.search.text, info=True) }}
  {%- endif -%}
  {{ return(state.result) }}
{%- endmacro %}
