-- One row per feature of every trained version, with the training statistics recorded for it (the drift baseline).
-- Keys a version did not record (quantiles of older versions, categories of numeric features) are null.
with features as (
    select
        v.model_schema,
        v.model_name,
        v.version,
        v.version = max(v.version) over (partition by v.model_schema, v.model_name) as is_latest,
        f.position as feature_position,
        f.feature ->> 'name' as feature_name,
        f.feature ->> 'type' as feature_type,
        f.feature ->> 'kind' as feature_kind,
        v.training_stats -> (f.feature ->> 'name') as stats
    from {{ source('dbt_learn', 'model_versions') }} as v
    cross join lateral jsonb_array_elements(v.features) with ordinality as f (feature, position)
)

select
    model_schema,
    model_name,
    version,
    is_latest,
    feature_position,
    feature_name,
    feature_type,
    feature_kind,
    -- jsonb_to_record casts through the text form; numeric first so 40 and 40.0 both read as a count.
    s.count::bigint as count,
    s.nulls::bigint as nulls,
    s.mean,
    s.std,
    s.min,
    s.max,
    s."distinct"::bigint as distinct_values,
    s.quantiles,
    s.frequencies,
    s.categories
from features
left join lateral jsonb_to_record(
    case when jsonb_typeof(stats) = 'object' then stats end
) as s (
    count numeric, nulls numeric, mean double precision, std double precision, min double precision,
    max double precision, "distinct" numeric, quantiles jsonb, frequencies jsonb, categories jsonb
) on true
