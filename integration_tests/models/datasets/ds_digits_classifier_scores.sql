{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_digits_classifier'), ref('digits')) }}
