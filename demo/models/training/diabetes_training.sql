select * from {{ ref('diabetes') }}
where patient_id % 4 <> 0
