{#- Composite key, decision time scored_at (timestamptz, mixed offsets), naive outcome times, missing = negative. -#}
{{ dbt_learn.ml_label_predictions(ref('labels_prediction_log'), ref('labels_outcomes'), key=['region', 'lead_id'],
       maturity='1 day', missing_outcome='negative', missing_outcome_value=false) }}
