-- A prediction log: each run appends the scores of lead events that label_model's serving version has not scored
-- yet. full_refresh=false: dbt never rebuilds it, so --full-refresh keeps the history; append_new_columns: a new
-- class of a retrained version adds its probability column.
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false,
          on_schema_change='append_new_columns') }}
select * from {{ dbt_learn.ml_score(ref('label_model'), ref('log_leads'), id_columns=['lead_id', 'created_at']) }}
