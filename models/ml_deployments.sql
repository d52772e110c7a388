-- The deployment log, oldest first per model: which version started serving when, why, replacing which version,
-- and that version's headline metric.
select
    d.deployment_id,
    d.model_schema,
    d.model_name,
    d.version,
    lag(d.version) over (partition by d.model_schema, d.model_name order by d.deployment_id) as previous_version,
    d.deployed_at,
    d.deployed_by,
    d.strategy,
    d.reason,
    v.task,
    v.algorithm,
    v.trained_at,
    v.metrics,
    h.metric as headline_metric,
    case
        when jsonb_typeof(v.metrics -> h.metric) = 'number'
            then (v.metrics ->> h.metric)::double precision
    end as headline_value
from {{ source('dbt_learn', 'deployments') }} as d
-- left: the log keeps the deployments of purged versions (dbt_learn.purge_versions), with NULL version details.
left join {{ source('dbt_learn', 'model_versions') }} as v
    on v.model_schema = d.model_schema and v.model_name = d.model_name and v.version = d.version
left join {{ source('dbt_learn', 'metric_definitions') }} as h
    on h.task = v.task and h.is_headline
