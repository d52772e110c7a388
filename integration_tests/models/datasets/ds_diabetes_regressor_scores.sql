{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_diabetes_regressor'), ref('diabetes')) }}
