{#- DELIBERATELY WRONG (a negative test): the latest balance by event time, ignoring when it was loaded. -#}
select
    spine.spine_id,
    spine.customer_key,
    spine.observed_at,
    latest.balance as bal_balance,
    latest.event_time as bal_event_time,
    latest.loaded_at as bal_known_at
from {{ ref('pit_spine') }} as spine
left join lateral (
    select b.balance, b.event_time, b.loaded_at
    from {{ ref('pit_balances') }} as b
    where b.customer_id = spine.customer_key and b.event_time at time zone 'UTC' <= spine.observed_at
    order by b.event_time desc, b.loaded_at desc
    limit 1
) as latest on true
