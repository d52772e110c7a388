-- linear_new has its columns in another order and an extra text column: features match by name, extras are ignored.
select * from {{ dbt_learn.ml_score(ref('linear_model'), ref('linear_new'), id_columns=['id']) }}
