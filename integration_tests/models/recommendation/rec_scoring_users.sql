-- The users to recommend for: every trained user, two the model has never seen (cold start) and a NULL (skipped).
select distinct user_id from {{ ref('rec_interactions') }}
union all
select user_id from (values (9001), (9002), (null::integer)) as new_users (user_id)
