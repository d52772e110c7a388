-- Anomaly detection: an isolation forest over the 30 features (no target; the diagnosis is left out).
{{ config(materialized='ml_train', meta={
    'algorithm': 'isolation_forest', 'params': {'n_estimators': 50, 'contamination': 0.05}, 'id_columns': ['id'],
    'exclude_columns': ['diagnosis'],
}) }}
select * from {{ ref('breast_cancer') }}
