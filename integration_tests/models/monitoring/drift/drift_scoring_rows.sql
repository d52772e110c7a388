-- The events with x2 present (the estimators refuse NULLs), to score.
{{ config(materialized='view') }}
select id, event_at, x1, x2, channel from {{ ref('drift_events') }} where x2 is not null
