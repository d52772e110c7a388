{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_penguins_body_mass'), ref('penguins')) }}
