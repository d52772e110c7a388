{{ config(materialized='table') }}
{#- No positive_value: accuracy only; expected accuracy from the largest probability_* column. -#}
{{ dbt_learn.ml_performance_buckets(ref('perf_multiclass_labelled'), bucket='1 day') }}
