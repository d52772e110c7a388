{#- Drift of a relation's features against the training baseline stored with a version, per time bucket, in plain
    SQL: one row per bucket_start x feature with n, null_share, psi, js_distance, ks_statistic and band.

      {{ dbt_learn.ml_feature_drift(ref('churn_model'), ref('customers_scored'), 'scored_at', bucket='1 day') }}

    The baseline is the deployed version's training_stats (or `version`'s), read from dbt_learn.model_versions, or
    `baseline=` a relation shaped like the ml_feature_stats model, so it also runs where the registry is not.
    See drift.yml for the rules (bins, epsilon, bands, empty buckets). -#}
{% macro ml_feature_drift(model, relation, time_column, bucket='1 day', version=none, features=none,
                          baseline=none) -%}
  {{ return(adapter.dispatch('ml_feature_drift', 'dbt_learn')(model, relation, time_column, bucket, version,
                                                                 features, baseline)) }}
{%- endmacro %}

{% macro default__ml_feature_drift(model, relation, time_column, bucket, version, features, baseline) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {{ return(dbt_learn.drift_monitor_sql('ml_feature_drift', 'features', model, relation, time_column, bucket,
                                        version, features, baseline)) }}
{%- endmacro %}
