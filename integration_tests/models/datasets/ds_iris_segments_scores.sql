{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_iris_segments'), ref('iris')) }}
