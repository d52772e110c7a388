{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('ds_breast_cancer_anomalies'), ref('breast_cancer')) }}
