{{ config(materialized='table') }}
select id, prediction from {{ dbt_learn.ml_score(ref('bench_model_categorical'), source('bench', 'categorical')) }}
