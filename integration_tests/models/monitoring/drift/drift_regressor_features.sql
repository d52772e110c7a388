-- One feature, 12-hour buckets, the version pinned.
{{ config(materialized='table') }}
{{ dbt_learn.ml_feature_drift(ref('drift_regressor'), ref('drift_events'), 'event_at', bucket='12 hours',
                              version=1, features=['x1']) }}
