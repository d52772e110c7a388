-- Top 5 unseen items per user from rec_implicit's serving version.
{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_recommend(ref('rec_implicit'), ref('rec_scoring_users'), k=5) }}
