{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='lead_id',
          indexes=[{'columns': ['decided_at']}, {'columns': ['lead_id']}]) }}
{{ dbt_learn.ml_label_predictions(
       source('leads', 'prediction_log'), source('leads', 'conversions'), key='lead_id',
       outcome_column='converted', outcome_time_column='converted_at', decision_time_column='created_at',
       maturity='2 days', missing_outcome='negative', missing_outcome_value=false, columns=['source'],
       recompute='3 days') }}
