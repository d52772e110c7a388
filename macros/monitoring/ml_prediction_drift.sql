{#- Drift of a prediction log's outputs (`prediction`, `probability_<class>`) against the distribution of the
    version's holdout predictions recorded at training (evaluation['prediction_stats']), per time bucket; the same
    outputs as ml_feature_drift, with `feature` naming the prediction column.

      {{ dbt_learn.ml_prediction_drift(ref('churn_model'), ref('churn_prediction_log'), 'scored_at') }}
-#}
{% macro ml_prediction_drift(model, predictions, time_column, bucket='1 day', columns=none, version=none,
                             baseline=none) -%}
  {{ return(adapter.dispatch('ml_prediction_drift', 'dbt_learn')(model, predictions, time_column, bucket, columns,
                                                                    version, baseline)) }}
{%- endmacro %}

{% macro default__ml_prediction_drift(model, predictions, time_column, bucket, columns, version, baseline) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {{ return(dbt_learn.drift_monitor_sql('ml_prediction_drift', 'predictions', model, predictions, time_column,
                                        bucket, version, columns, baseline)) }}
{%- endmacro %}
