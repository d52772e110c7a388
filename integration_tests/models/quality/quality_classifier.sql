-- A classifier with a holdout (label_model has none, so it has no metrics): the subject of the metric tests.
-- label is 'high' exactly when a >= 5, so a logistic regression scores its 10 holdout rows (almost) perfectly.
{{ config(materialized='ml_train', meta={
    'target': 'label', 'algorithm': 'logistic_regression', 'id_columns': ['id'], 'holdout_size': 0.25,
}) }}
select * from {{ ref('labels_training') }}
