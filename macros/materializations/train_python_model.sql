{#- Train a dbt Python model: its compiled code runs inside the database (dbt_learn.train_python), where dbt.ref()
    loads relations as pandas DataFrames in bulk. Only roles the admin allowed at install may do this: running
    Python in the server is as powerful as the server's OS user (see docs/security.md). -#}
{% macro train_python_model(model, options, code, retrain=none) -%}
  {{ return(adapter.dispatch('train_python_model', 'dbt_learn')(model, options, code, retrain)) }}
{%- endmacro %}

{% macro postgres__train_python_model(model, options, code, retrain=none) -%}
  {%- do dbt_learn.require_python_models(model, 'dbt_learn.train_python(text, text, jsonb, text, text)',
                                         'write the model as SQL with meta.algorithm') -%}
  {%- set spec = dbt_learn.training_spec(model, options, retrain) -%}
  {{ return(dbt_learn.call_runtime(
      "select dbt_learn.train_python(%s, %s, %s::jsonb, %s, %s)::text",
      [this.schema, this.identifier, tojson(spec), code, model.original_file_path])) }}
{%- endmacro %}
