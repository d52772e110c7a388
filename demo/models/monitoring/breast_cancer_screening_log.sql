-- The prediction log: every run appends the screenings not yet scored by the serving version. full_refresh=false
-- keeps the history through `dbt run --full-refresh`.
{{ config(materialized='incremental', incremental_strategy='append', full_refresh=false,
          indexes=[{'columns': ['screened_at']}, {'columns': ['screening_id']}]) }}
select *
from {{ dbt_learn.ml_score(ref('breast_cancer_classifier'), ref('screenings_arrived'),
                           id_columns=['screening_id', 'screened_at']) }}
