select distinct lead_source from {{ ref('pit_lead_spine') }}
