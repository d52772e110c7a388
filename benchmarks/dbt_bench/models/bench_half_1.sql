-- Half of the benchmark table (scaling.py): two scoring models over the halves, run with two dbt threads, use
-- both cores - one ml_score cannot, since PL/Python cannot run in parallel workers.
{{ config(materialized='view') }}
{%- set rows = api.Relation.create(database=target.database, schema=var('schema'), identifier=var('table')) %}
select * from {{ rows }} where id % 2 = 1
