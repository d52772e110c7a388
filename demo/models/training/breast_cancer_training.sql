-- The training view: an ordinary dbt model. Every numeric column but the id and the target becomes a feature.
select *
from {{ ref('breast_cancer') }}
where patient_id % 5 <> 0  -- keep every fifth patient aside as "new" patients to score
