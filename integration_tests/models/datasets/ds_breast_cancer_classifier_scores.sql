{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_breast_cancer_classifier'), ref('breast_cancer')) }}
