{{ config(materialized='table') }}
{#- The sliced buckets summed over every segment; the estimate is trusted here up to a calibration error of 0.07. -#}
{{ dbt_learn.ml_trailing_performance(ref('perf_buckets'), windows=['3 hours', '1 day'],
                                     trust_max_calibration_error=0.07) }}
