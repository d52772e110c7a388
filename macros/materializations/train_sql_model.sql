{#- Train a SQL ml_train model: check the options against the training view's columns, then hand the training query
    (training_batch_sql) to dbt_learn.train_query, which reads it through a cursor with this role's privileges and
    trains on the rows - they never leave the database. With meta.partial_fit it fits in chunks of about
    var dbt_learn_training_chunk_mb (default 64) megabytes, one cursor pass per epoch. -#}
{% macro train_sql_model(model, options, sql, retrain=none) -%}
  {{ return(adapter.dispatch('train_sql_model', 'dbt_learn')(model, options, sql, retrain)) }}
{%- endmacro %}

{% macro postgres__train_sql_model(model, options, sql, retrain=none) -%}
  {%- set columns = dbt_learn.query_column_types(sql, categories=true) -%}
  {%- set column_types = {} -%}
  {%- for name, column in columns.items() -%}
    {%- do column_types.update({name: column.type}) -%}
  {%- endfor -%}
  {%- set described = dbt_learn.call_runtime(
      "select dbt_learn.describe_algorithm(%s, %s, %s::jsonb, %s)::text",
      [model.name, options.algorithm, tojson(options.params), options.random_state]) -%}
  {%- set task = described.task -%}
  {%- set target = options.target -%}

  {%- if task in ('clustering', 'anomaly_detection') and target -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': " ~ described.class_path.split('.')[-1]
        ~ " is a " ~ task | replace('_', ' ') ~ " estimator and learns without a target, but meta.target is set to '"
        ~ target ~ "'. Remove meta.target (list the column in meta.exclude_columns if it should not be a feature), "
        ~ "or choose a classifier or regressor.") }}
  {%- endif -%}
  {%- if task not in ('clustering', 'anomaly_detection') and not target -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': no target configured; set "
        ~ "meta.target to the column to predict. Columns are: " ~ column_types.keys() | join(', ')) }}
  {%- endif -%}
  {%- if target and target not in column_types -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': target column '" ~ target
        ~ "' not found in the training view; its columns are: " ~ column_types.keys() | join(', ')
        ~ ". Fix meta.target or the training SQL.") }}
  {%- endif -%}
  {%- for column in options.id_columns + options.exclude_columns + ([options.split_column] if options.split_column
                                                                     else []) -%}
    {%- if column not in column_types -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': column '" ~ column ~ "' in "
          ~ "meta.id_columns/exclude_columns/split_column is not in the training view; its columns are: "
          ~ column_types.keys() | join(', ')) }}
    {%- endif -%}
  {%- endfor -%}
  {%- if task == 'regression' and not dbt_learn.is_numeric_type(column_types[target]) -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': " ~ described.class_path.split('.')[-1]
        ~ " is a regressor but target column '" ~ target ~ "' has type " ~ column_types[target] ~ "; cast it to a "
        ~ "number in the training view or choose a classifier.") }}
  {%- endif -%}

  {%- set features = dbt_learn.training_features(model, options, columns) -%}
  {%- set spec = dbt_learn.training_spec(model, options, retrain) -%}
  {%- do spec.update({'task': task, 'features': features,
                      'target': {'name': target, 'type': column_types.get(target)} if target else none}) -%}
  {%- set order_column = options.split_column if options.split == 'time' else none -%}
  {#- meta.partial_fit reads each row's seeded hash too: it picks the holdout and the preprocessing sample. -#}
  {%- set hashed = {'seed': options.partial_fit.seed} if options.partial_fit else options.sample -%}
  {%- if options.partial_fit -%}
    {%- do spec.update({'partial_fit': options.partial_fit,
                        'training_chunk_mb': dbt_learn.get_config('dbt_learn_training_chunk_mb')}) -%}
  {%- endif -%}
  {%- set query = dbt_learn.training_batch_sql(sql, features, target, task, order_column,
                                               column_types.get(order_column), hashed) -%}
  {{ return(dbt_learn.call_runtime("select dbt_learn.train_query(%s, %s, %s::jsonb, %s)::text",
                                   [this.schema, this.identifier, tojson(spec), query])) }}
{%- endmacro %}
