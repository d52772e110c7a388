-- One row per trained model: which version serves, how many there are, and the serving version's headline metric.
with versions as (
    select
        v.*,
        max(v.version) over (partition by v.model_schema, v.model_name) as latest_version,
        count(*) over (partition by v.model_schema, v.model_name) as version_count,
        min(v.trained_at) over (partition by v.model_schema, v.model_name) as first_trained_at,
        max(v.trained_at) over (partition by v.model_schema, v.model_name) as last_trained_at
    from {{ source('dbt_learn', 'model_versions') }} as v
),

serving as (
    select
        v.*,
        d.deployed_at,
        d.deployed_by,
        d.strategy as deployment_strategy,
        h.metric as headline_metric
    from versions as v
    inner join {{ source('dbt_learn', 'serving_versions') }} as s
        on s.model_schema = v.model_schema and s.model_name = v.model_name and s.version = v.version
    left join {{ source('dbt_learn', 'deployed_versions') }} as d
        on d.model_schema = v.model_schema and d.model_name = v.model_name and d.version = v.version
    left join {{ source('dbt_learn', 'metric_definitions') }} as h
        on h.task = v.task and h.is_headline
)

select
    model_schema,
    model_name,
    task,
    version as deployed_version,
    deployed_at,
    deployed_by,
    deployment_strategy,
    latest_version,
    version_count,
    version <> latest_version as newer_version_not_deployed,
    first_trained_at,
    last_trained_at,
    trained_at as deployed_version_trained_at,
    language,
    algorithm,
    target_column,
    classes,
    training_rows,
    holdout_rows,
    metrics,
    headline_metric,
    case
        when jsonb_typeof(metrics -> headline_metric) = 'number'
            then (metrics ->> headline_metric)::double precision
    end as headline_value
from serving
