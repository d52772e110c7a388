select patient_id, age, sex, bmi, blood_pressure, s1, s2, s3, s4, s5, s6
from {{ ref('diabetes') }}
where patient_id % 4 = 0
