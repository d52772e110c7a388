{{ config(materialized='table') }}
select id, prediction from {{ dbt_learn.ml_score(ref('bench_model'), ref('bench_half_1')) }}
