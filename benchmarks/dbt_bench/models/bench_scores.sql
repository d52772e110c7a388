{{ config(materialized='table') }}
{%- set rows = api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) %}
select id, prediction from {{ dbt_learn.ml_score(ref('bench_model'), rows) }}
