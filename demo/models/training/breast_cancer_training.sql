-- The training view: an ordinary dbt model. Every numeric column but the id and the target becomes a feature.
select *
from {{ ref('breast_cancer') }}
where patient_id % 2 = 0  -- patients with an odd id are kept aside: the new patients and the screening stream
