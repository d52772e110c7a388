-- The screenings the scanner has sent so far: a replay moves "now" with --vars '{dbt_learn_as_of: ...}'.
select *
from {{ ref('screenings') }}
where screened_at < {{ dbt_learn.as_of_sql() }}
