{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_iris_classifier'), ref('iris')) }}
