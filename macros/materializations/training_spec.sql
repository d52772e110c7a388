{#- What every training call sends to the runtime, SQL or Python model alike: the options, the run's context, and
    `force` when dbt runs with --full-refresh (which retrains whatever the retrain policy says). -#}
{% macro training_spec(model, options) -%}
  {{ return({
      'algorithm': options.algorithm, 'params': options.params, 'random_state': options.random_state,
      'holdout_size': options.holdout_size, 'refit': options.refit, 'split': options.split,
      'split_column': options.split_column, 'cv_folds': options.cv_folds,
      'threads_per_model': options.threads_per_model, 'dbt_threads': dbt_learn.target_threads(),
      'target': {'name': options.target, 'type': none} if options.target else none,
      'id_columns': options.id_columns, 'exclude_columns': options.exclude_columns,
      'retrain_policy': options.retrain_policy, 'deploy_strategy': options.deploy_strategy,
      'deploy_metric': options.deploy_metric, 'deploy_direction': options.deploy_direction,
      'deploy_version': options.deploy_version, 'force': should_full_refresh(),
      'invocation_id': invocation_id, 'unique_id': model.unique_id, 'config': options,
  }) }}
{%- endmacro %}
