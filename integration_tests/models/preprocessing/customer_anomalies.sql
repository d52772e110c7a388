-- Anomaly detection: an isolation forest over the mixed columns; scores carry is_anomaly and anomaly_score.
{{ config(materialized='ml_train', meta={
    'algorithm': 'isolation_forest', 'id_columns': ['customer_id'], 'exclude_columns': ['churned', 'spend'],
    'params': {'n_estimators': 50, 'contamination': 0.05},
}) }}
select * from {{ ref('customers_mixed') }}
