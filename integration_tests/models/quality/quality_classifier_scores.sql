-- Scores of quality_classifier: the subject of the prediction tests (labels and class probabilities).
{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('quality_classifier'), ref('labels_new')) }}
