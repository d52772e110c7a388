select id, prediction from {{ ref('label_scores') }}
