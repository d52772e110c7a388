select id, prediction from {{ dbt_learn.ml_score(ref('python_label_model'), ref('labels_new')) }}
