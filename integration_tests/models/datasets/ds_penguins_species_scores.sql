{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_penguins_species'), ref('penguins')) }}
