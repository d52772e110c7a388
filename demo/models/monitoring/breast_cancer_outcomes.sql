-- One row per screening: the prediction made when it was screened, and its biopsy result once known. Only malignant
-- results are ever sent, so a screening without one counts as benign 12 hours after it was made (its maturity).
-- Incremental: each run re-judges the screenings of the last day only.
{{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='screening_id',
          indexes=[{'columns': ['decided_at']}]) }}
{{ dbt_learn.ml_label_predictions(
       ref('breast_cancer_screening_log'), ref('biopsy_results'), key='screening_id',
       outcome_column='diagnosis', outcome_time_column='confirmed_at', decision_time_column='screened_at',
       maturity='12 hours', missing_outcome='negative', missing_outcome_value='benign', recompute='1 day') }}
