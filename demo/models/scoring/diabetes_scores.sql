select *
from {{ dbt_learn.ml_score(ref('diabetes_regressor'), ref('diabetes_new_patients')) }}
