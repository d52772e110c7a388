{#- As labels_labelled, for the keys decided at or after 2024-03-01 12:00 UTC (as an incremental caller would). -#}
{{ dbt_learn.ml_label_predictions(ref('labels_prediction_log'), ref('labels_outcomes'), key=['region', 'lead_id'],
       maturity='1 day', missing_outcome='negative', missing_outcome_value=false, since='2024-03-01 12:00:00') }}
