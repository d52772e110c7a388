-- The interactions the recommenders train on: one row per (user, item) rating; a few pairs repeat (re-ratings).
select user_id, item_code, rating from {{ ref('rec_interactions') }}
