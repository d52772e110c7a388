{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_wine_classifier'), ref('wine')) }}
