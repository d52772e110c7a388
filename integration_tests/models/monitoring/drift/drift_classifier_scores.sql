{{ config(materialized='table') }}
select *
from {{ dbt_learn.ml_score(ref('drift_classifier'), ref('drift_scoring_rows'), id_columns=['id', 'event_at']) }}
