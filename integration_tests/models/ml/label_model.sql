-- A text target: predictions come back as the training labels, with one probability column per class.
{{ config(materialized='ml_train', meta={
    'target': 'label', 'algorithm': 'decision_tree_classifier', 'id_columns': ['id'], 'holdout_size': 0,
}) }}
select * from {{ ref('labels_training') }}
