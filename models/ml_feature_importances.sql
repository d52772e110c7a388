-- One row per version x level x feature: the global importances recorded with each version
-- (dbt_learn.model_versions.feature_importances, python_models/dbt_learn/explanations.py). Level 'feature' is what
-- the estimator sees (a one-hot category, a date part, a missing indicator); level 'column' sums them per input column.
-- Versions trained with meta.importances false (or before runtime 0.5.0) have none and give no rows.
with versions as (
    select
        v.model_schema,
        v.model_name,
        v.version,
        v.version = max(v.version) over (partition by v.model_schema, v.model_name) as is_latest,
        v.feature_importances as importances
    from {{ source('dbt_learn', 'model_versions') }} as v
),

levels as (
    select versions.*, level.name as level, importances -> level.list as entries
    from versions
    cross join (values ('feature', 'features'), ('column', 'columns')) as level (name, list)
    where jsonb_typeof(importances -> level.list) = 'array'
),

entries as (
    select
        l.model_schema,
        l.model_name,
        l.version,
        l.is_latest,
        l.importances ->> 'method' as method,
        l.importances ->> 'scoring' as scoring,
        l.importances ->> 'source' as source,
        l.level,
        e.position::integer as position,
        case when l.level = 'feature' then e.entry ->> 'feature' else e.entry ->> 'column' end as name,
        e.entry ->> 'column' as input_column,
        (e.entry ->> 'importance')::double precision as importance,
        (e.entry ->> 'std')::double precision as importance_std
    from levels as l
    cross join lateral jsonb_array_elements(l.entries) with ordinality as e (entry, position)
)

select
    *,
    rank() over (
        partition by model_schema, model_name, version, level order by importance desc nulls last
    ) as importance_rank,
    importance / nullif(
        sum(abs(importance)) over (partition by model_schema, model_name, version, level), 0
    ) as importance_share
from entries
