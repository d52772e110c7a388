-- Every trained version of every ml_train model in this database, newest first per model.
select
    v.model_schema,
    v.model_name,
    v.version,
    v.version = max(v.version) over (partition by v.model_schema, v.model_name) as is_latest,
    -- The serving version: the newest deployment, or the newest version of a model with no deployment recorded.
    v.version = coalesce(d.version, max(v.version) over (partition by v.model_schema, v.model_name)) as is_deployed,
    v.trained_at,
    v.trained_by,
    v.training_reason,
    v.trained_as_of,
    v.language,
    v.task,
    v.algorithm,
    v.params,
    v.target_column,
    v.target_type,
    v.classes,
    v.id_columns,
    v.features,
    v.training_rows,
    v.holdout_rows,
    v.metrics,
    v.fit_seconds,
    v.training_stats,
    v.evaluation,
    v.preprocessing,
    v.feature_importances,
    v.data_fingerprint,
    v.library_versions,
    v.artifact_sha256,
    v.artifact_bytes,
    v.dbt_invocation_id,
    v.dbt_unique_id
from dbt_learn.model_versions as v
left join dbt_learn.deployed_versions as d
    on d.model_schema = v.model_schema and d.model_name = v.model_name
