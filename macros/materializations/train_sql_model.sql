{#- Train a SQL ml_train model: check the options against the training view's columns, then send every row to
    dbt_learn.train as one bytea built by string_agg(float8send(...)) - the rows never leave the database. -#}
{% macro train_sql_model(model, options, sql) -%}
  {{ return(adapter.dispatch('train_sql_model', 'dbt_learn')(model, options, sql)) }}
{%- endmacro %}

{% macro postgres__train_sql_model(model, options, sql) -%}
  {%- set column_types = dbt_learn.query_column_types(sql) -%}
  {%- set described = dbt_learn.call_runtime(
      "select dbt_learn.describe_algorithm(%s, %s, %s::jsonb, %s)::text",
      [model.name, options.algorithm, tojson(options.params), options.random_state]) -%}
  {%- set task = described.task -%}
  {%- set target = options.target -%}

  {%- if task != 'clustering' and not target -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': no target configured; set "
        ~ "meta.target to the column to predict. Columns are: " ~ column_types.keys() | join(', ')) }}
  {%- endif -%}
  {%- if target and target not in column_types -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': target column '" ~ target
        ~ "' not found in the training view; its columns are: " ~ column_types.keys() | join(', ')
        ~ ". Fix meta.target or the training SQL.") }}
  {%- endif -%}
  {%- for column in options.id_columns + options.exclude_columns -%}
    {%- if column not in column_types -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': column '" ~ column ~ "' in "
          ~ "meta.id_columns/exclude_columns is not in the training view; its columns are: "
          ~ column_types.keys() | join(', ')) }}
    {%- endif -%}
  {%- endfor -%}
  {%- if task == 'regression' and not dbt_learn.is_numeric_type(column_types[target]) -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': " ~ described.class_path.split('.')[-1]
        ~ " is a regressor but target column '" ~ target ~ "' has type " ~ column_types[target] ~ "; cast it to a "
        ~ "number in the training view or choose a classifier.") }}
  {%- endif -%}

  {%- set features = dbt_learn.training_features(model, options, column_types) -%}
  {%- set spec = {
      'task': task, 'algorithm': options.algorithm, 'params': options.params,
      'random_state': options.random_state, 'holdout_size': options.holdout_size, 'refit': options.refit,
      'threads_per_model': options.threads_per_model, 'dbt_threads': dbt_learn.target_threads(),
      'target': {'name': target, 'type': column_types.get(target)} if target else none,
      'features': features, 'id_columns': options.id_columns, 'exclude_columns': options.exclude_columns,
      'invocation_id': invocation_id, 'unique_id': model.unique_id, 'config': options,
  } -%}
  {%- set statement = dbt_learn.training_batch_sql(sql, features, target if task != 'clustering' else none,
                                                   task, options.id_columns) -%}
  {{ return(dbt_learn.call_runtime(statement, [this.schema, this.identifier, tojson(spec)])) }}
{%- endmacro %}
