-- A prediction log that also rescores an event when its updated_at grows past the value it was scored at.
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false,
          on_schema_change='append_new_columns') }}
select * from {{ dbt_learn.ml_score(ref('label_model'), ref('log_leads'), id_columns=['lead_id', 'created_at'],
                                   changed_column='updated_at') }}
