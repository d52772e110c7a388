select distinct customer_key from {{ ref('pit_spine') }}
