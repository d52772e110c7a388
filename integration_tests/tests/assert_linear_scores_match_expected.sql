-- Rows returned are failures: a missing score, or a prediction off the exact linear formula by more than 1e-9.
select e.id, e.expected_prediction, s.prediction
from {{ ref('expected_linear_scores') }} as e
left join {{ ref('linear_scores') }} as s on s.id = e.id
where s.prediction is null or abs(s.prediction - e.expected_prediction) > 1e-9
