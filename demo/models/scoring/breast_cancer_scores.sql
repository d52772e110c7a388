select *
from {{ dbt_learn.ml_score(ref('breast_cancer_classifier'), ref('breast_cancer_new_patients'),
                           id_columns=['patient_id']) }}
