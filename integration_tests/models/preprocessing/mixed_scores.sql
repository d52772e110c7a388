-- New customers, unseen region and all-NULL rows included, scored by every model above.
{{ config(materialized='table') }}
select 'churn_linear' as model, customer_id, prediction::text as prediction, probability_yes as score
from {{ dbt_learn.ml_score(ref('churn_linear'), ref('customers_mixed_new')) }}
union all
select 'churn_forest', customer_id, prediction::text, probability_yes
from {{ dbt_learn.ml_score(ref('churn_forest'), ref('customers_mixed_new')) }}
union all
select 'spend_ridge', customer_id, null, prediction
from {{ dbt_learn.ml_score(ref('spend_ridge'), ref('customers_mixed_new')) }}
union all
select 'customer_anomalies', customer_id, is_anomaly::text, anomaly_score
from {{ dbt_learn.ml_score(ref('customer_anomalies'), ref('customers_mixed_new')) }}
