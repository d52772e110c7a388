{#- What every training call sends to the runtime, SQL or Python model alike: the options, the run's context, and
    from retrain_decision `force` (--full-refresh or a retrain_on breach: train whatever the retrain policy says) and
    `training_reason`. `as_of` is the run's moment on the monitoring clock (var dbt_learn_as_of, else now()), recorded
    as the version's trained_as_of: monitor periods after it are new evidence for retrain_on. `sample` (meta.sample)
    and `training_batch_mb` (var dbt_learn_training_batch_mb, the most row bytes one training batch holds) shape
    which rows an SQL model trains on (python_models/dbt_learn/_training_read.py). -#}
{% macro training_spec(model, options, retrain=none) -%}
  {%- set retrain = retrain or {'force': should_full_refresh(), 'reason': 'full refresh' if should_full_refresh()
                                                                          else none} -%}
  {%- set as_of = dbt_learn.fetch_rows("select (" ~ dbt_learn.as_of_sql() ~ ")::text", none)[0][0] -%}
  {{ return({
      'algorithm': options.algorithm, 'params': options.params, 'random_state': options.random_state,
      'holdout_size': options.holdout_size, 'refit': options.refit, 'split': options.split,
      'split_column': options.split_column, 'cv_folds': options.cv_folds,
      'threads_per_model': options.threads_per_model, 'dbt_threads': dbt_learn.target_threads(),
      'target': {'name': options.target, 'type': none} if options.target else none,
      'id_columns': options.id_columns, 'exclude_columns': options.exclude_columns,
      'retrain_policy': options.retrain_policy, 'deploy_strategy': options.deploy_strategy,
      'deploy_metric': options.deploy_metric, 'deploy_direction': options.deploy_direction,
      'deploy_version': options.deploy_version, 'force': retrain.force, 'training_reason': retrain.reason,
      'task': options.task, 'preprocessing': options.preprocessing, 'threshold': options.threshold,
      'search': options.search, 'importances': options.importances, 'user_column': options.user_column,
      'item_column': options.item_column, 'rating_column': options.rating_column, 'top_k': options.top_k,
      'sample': options.sample, 'training_batch_mb': dbt_learn.get_config('dbt_learn_training_batch_mb'),
      'as_of': as_of, 'invocation_id': invocation_id, 'unique_id': model.unique_id, 'config': options,
  }) }}
{%- endmacro %}
