select * from {{ dbt_learn.ml_score(ref('label_model'), ref('labels_new')) }}
