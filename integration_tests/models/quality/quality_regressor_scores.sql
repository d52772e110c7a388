-- Scores of quality_regressor: the subject of the failing prediction tests in negative.yml.
{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('quality_regressor'), ref('linear_new')) }}
