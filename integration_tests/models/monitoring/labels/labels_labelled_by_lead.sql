{#- One key column given as a string, decision time created_at (naive), zoned outcome times, missing = unknown. -#}
{{ dbt_learn.ml_label_predictions(ref('labels_prediction_log'), ref('labels_outcomes'), key='lead_id',
       outcome_time_column='observed_at_tz', decision_time_column='created_at', maturity='1 day') }}
