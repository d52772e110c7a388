{#- Trailing-window metrics from the buckets of ml_performance_buckets: one row per window_end (a dbt_utils.date_spine
    every `every`, up to as_of) x window x slice values, each window summing the buckets whose end is in
    (window_end - window, window_end], i.e. the decisions made in [window_end - window, window_end):

      {{ config(materialized='table') }}
      {{ dbt_learn.ml_trailing_performance(ref('lead_buckets'), windows=['3 hours', '1 day'], slices=['source']) }}

    Inside an incremental model (delete+insert, unique_key='window_end') a run recomputes only the window ends that
    buckets recomputed since its last run can touch, and those after its newest window end. Full documentation:
    macros/monitoring/performance.yml. -#}
{% macro ml_trailing_performance(buckets, windows=['3 hours', '1 day', '7 days'], every='hour', slices=[], start=none,
                                 trust_max_calibration_error=0.05, trust_min_labelled=100) -%}
  {{ return(adapter.dispatch('ml_trailing_performance', 'dbt_learn')(buckets, windows, every, slices, start,
      trust_max_calibration_error, trust_min_labelled)) }}
{%- endmacro %}

{% macro default__ml_trailing_performance(buckets, windows, every, slices, start, trust_max_calibration_error,
                                          trust_min_labelled) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {%- set context = 'ml_trailing_performance(' ~ (buckets.identifier if buckets.identifier is defined else buckets)
      ~ ')' -%}
  {%- set everies = ['minute', 'hour', 'day', 'week', 'month'] -%}
  {%- if every not in everies -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": every must be one of " ~ everies | join(', ')
        ~ " (a dbt_utils.date_spine datepart); got '" ~ every ~ "'.") }}
  {%- endif -%}
  {%- set windows = [windows] if windows is string else windows -%}
  {%- if windows is mapping or windows is not iterable or not windows -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": windows must be a non-empty list of intervals, "
        ~ "e.g. ['3 hours', '1 day']; got " ~ windows) }}
  {%- endif -%}
  {%- set window_sql = [] -%}
  {%- for window in windows -%}
    {%- set sql = dbt_learn.ml_perf_interval_sql(context, 'windows', window) -%}
    {%- if sql in window_sql -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": window '" ~ window ~ "' is listed twice.") }}
    {%- endif -%}
    {%- do window_sql.append(sql) -%}
  {%- endfor -%}
  {%- set slices = dbt_learn.ml_perf_name_list(context, 'slices', slices) -%}
  {%- set max_error = dbt_learn.ml_perf_number(context, 'trust_max_calibration_error', trust_max_calibration_error,
      0, 1) -%}
  {%- set min_trust = dbt_learn.ml_perf_number(context, 'trust_min_labelled', trust_min_labelled, 0, whole=true)
      | int -%}
  {#- Column: its type in the buckets relation (nulls in the union below need one). -#}
  {%- set sums = {'n_predictions': 'bigint', 'n_labelled': 'bigint', 'n_matured': 'bigint', 'n_scored': 'bigint',
      'n_labelled_scored': 'bigint', 'n_correct': 'bigint', 'tp': 'bigint', 'fp': 'bigint', 'fn': 'bigint',
      'tn': 'bigint', 'sum_log_loss': 'double precision', 'sum_brier': 'double precision',
      'sum_confidence': 'double precision', 'sum_error': 'double precision', 'sum_abs_error': 'double precision',
      'sum_squared_error': 'double precision', 'business_value': 'double precision'} -%}
  {%- set ranks = {'auc_pairs': 'double precision', 'auc_positives': 'numeric', 'auc_negatives': 'numeric',
      'calibration_gap': 'double precision'} -%}
  {%- set arrays = ['score_bin_positives', 'score_bin_negatives', 'calibration_count', 'calibration_score_sum',
      'calibration_positives'] -%}
  {%- do dbt_learn.ml_perf_require_columns(context, buckets, 'buckets (an ml_performance_buckets relation)',
      ['bucket_end', 'computed_at'] + sums.keys() | list + arrays) -%}
  {%- do dbt_learn.ml_perf_require_columns(context, buckets, 'slices', slices) -%}
  {%- do dbt_learn.ml_perf_require_incremental_config(context, 'window_end') -%}
  {%- set slice_sql = [] -%}
  {%- for name in slices -%}{%- do slice_sql.append(dbt_learn.quote_identifier(name)) -%}{%- endfor -%}
  {#- Inside, windows and slice-value combinations are integer ids: narrow sort keys, joins without NULL slices. -#}
  {%- set key_list = 'window_end, window_id, slice_id' -%}
  {%- set as_of = dbt_learn.as_of_sql() -%}
  {%- set as_of_utc = '(' ~ as_of ~ " at time zone 'UTC')" -%}
  {%- set step = "interval '1 " ~ every ~ "'" -%}
  {#- Window ends are UTC wall-clock timestamps, so hours and days step the same in every session time zone. The
      first and the last are fixed when the model compiles, as date_spine counts its steps then. -#}
  {%- if start is not none -%}
    {%- set first = dbt_learn.ml_perf_ceil_sql(every, '(' ~ dbt_learn.sql_string_literal(start)
        ~ "::timestamptz at time zone 'UTC')") -%}
  {%- else -%}
    {%- set first = "coalesce((select " ~ dbt_learn.ml_perf_ceil_sql(every, "min(b.bucket_end at time zone 'UTC')")
        ~ " from " ~ buckets ~ " as b), date_trunc('" ~ every ~ "', " ~ as_of_utc ~ "))" -%}
  {%- endif -%}
  {%- if is_incremental() -%}
    {#- Window ends that a bucket recomputed since this model's last run can touch, and the ends after its last. -#}
    {%- set first = "greatest(" ~ first ~ ", least((select " ~ dbt_learn.ml_perf_ceil_sql(every,
        "min(b.bucket_end at time zone 'UTC')") ~ " from " ~ buckets ~ " as b where b.computed_at > (select "
        ~ "max(done.computed_at) from " ~ this ~ " as done)), (select max(done.window_end at time zone 'UTC') + "
        ~ step ~ " from " ~ this ~ " as done)))" -%}
  {%- endif -%}
  {%- set ends = run_query("select first_end, greatest(first_end, date_trunc('" ~ every ~ "', " ~ as_of_utc ~ ")) + "
      ~ step ~ " from (select " ~ first ~ " as first_end) as f").rows[0] -%}
  {%- set first_sql = dbt_learn.sql_string_literal(ends[0] | string) ~ '::timestamp' -%}
  {%- set last_sql = dbt_learn.sql_string_literal(ends[1] | string) ~ '::timestamp' -%}
with spine as (
    {#- date_spine's end is exclusive: last_sql is one step after the last window end. #}
    {{ dbt_utils.date_spine(every, first_sql, last_sql) | indent(4) }}
),

window_ends as (
    select date_{{ every }} as window_end from spine where date_{{ every }} <= {{ as_of_utc }}
),

windows as (
    select window_id, window_size
    from (values {% for sql in window_sql %}({{ loop.index }}, {{ sql }}){{ ', ' if not loop.last }}{% endfor %})
        as w(window_id, window_size)
),

bounds as (
    select min(window_end) as first_end, max(window_end) as last_end from window_ends
),

ranked_buckets as (
    select
        {{ 'dense_rank() over (order by ' ~ slice_sql | join(', ') ~ ')' if slices else '1' }} as slice_id,
        b.bucket_end at time zone 'UTC' as bucket_end,
        {%- for name in slice_sql %}
        b.{{ name }},
        {%- endfor %}
        {%- for name in sums.keys() | list + arrays %}
        b.{{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ buckets }} as b
),

slice_values as (
    {%- if slices %}
    select distinct slice_id, {{ slice_sql | join(', ') }} from ranked_buckets
    {%- else %}
    select 1 as slice_id
    {%- endif %}
),

{#- Only buckets that a window ending from the first window end on can hold. #}
bucket_rows as materialized (
    select row_number() over () as bucket_row, r.*
    from ranked_buckets as r
    where r.bucket_end + (select max(window_size) from windows) > (select first_end from bounds)
),

{#- Each bucket belongs to the window ends whose window holds it: bucket_end <= window_end < bucket_end + window. #}
memberships as (
    select b.bucket_row, e.window_end, w.window_id, b.slice_id
    from bucket_rows as b
    cross join windows as w
    cross join lateral generate_series({{ dbt_learn.ml_perf_ceil_sql(every, 'b.bucket_end') }},
                                       b.bucket_end + w.window_size, {{ step }}) as g(window_end)
    inner join window_ends as e on e.window_end = g.window_end
    where g.window_end < b.bucket_end + w.window_size
),

pairs as (
    select m.window_end, m.window_id, m.slice_id{% for name in sums.keys() %}, b.{{ name }}{% endfor %}
    from memberships as m
    inner join bucket_rows as b on b.bucket_row = m.bucket_row
),

calibration as (
    select {{ key_list }}, sum(abs(score_sum - positives)) as calibration_gap
    from (
        select m.window_end, m.window_id, m.slice_id, u.bin, sum(u.score_sum) as score_sum,
               sum(u.positives) as positives
        from memberships as m
        inner join bucket_rows as b on b.bucket_row = m.bucket_row
        cross join lateral unnest(b.calibration_count, b.calibration_score_sum, b.calibration_positives)
            with ordinality as u(n, score_sum, positives, bin)
        where u.n > 0
        group by m.window_end, m.window_id, m.slice_id, u.bin
    ) as bins
    group by {{ key_list }}
),

{#- Window counts per score bin by a sweep instead of summing every bucket of every window: a bucket enters the window
    ending at t from t = ceil(bucket_end) and leaves at t = ceil(bucket_end + window), so the running sum of those
    steps is the window's count, constant until the next step. Work: about the non-empty (window end, bin) pairs,
    instead of (window ends) x (buckets per window) x (bins per bucket). Counts are integers: the sums are exact. #}
{#- The arrays are read once per bucket, keeping the non-empty bins. #}
score_bins as materialized (
    select b.bucket_end, b.slice_id, u.bin, u.positives, u.negatives
    from bucket_rows as b
    cross join lateral unnest(b.score_bin_positives, b.score_bin_negatives) with ordinality
        as u(positives, negatives, bin)
    where u.positives > 0 or u.negatives > 0
),

score_steps as (
    select w.window_id, s.slice_id, s.bin, edge.moment, edge.sign * s.positives as positives,
           edge.sign * s.negatives as negatives
    from score_bins as s
    cross join bounds
    inner join windows as w on s.bucket_end + w.window_size > bounds.first_end
    {#- Steps before the first window end all land on it, steps after the last are never read. #}
    cross join lateral (values (greatest({{ dbt_learn.ml_perf_ceil_sql(every, 's.bucket_end') }}, bounds.first_end), 1),
                               (greatest({{ dbt_learn.ml_perf_ceil_sql(every, '(s.bucket_end + w.window_size)') }},
                                         bounds.first_end), -1))
        as edge(moment, sign)
    where edge.moment <= bounds.last_end
),

{#- Steps at the same moment are peers of the running sum (RANGE frame), so every one of them carries the state after
    them all; only the last has a later valid_to, the others hold for no time. #}
score_states as (
    select window_id, slice_id, bin, moment as valid_from,
           coalesce(lead(moment) over bin_history, 'infinity') as valid_to,
           sum(positives) over bin_history as positives, sum(negatives) over bin_history as negatives
    from score_steps
    window bin_history as (partition by window_id, slice_id, bin order by moment)
),

{#- Rank-based ROC AUC: a positive beats the negatives of lower bins and ties half of those in its own bin. #}
auc as (
    select {{ key_list }}, sum(positives::double precision * (negatives_below + 0.5 * negatives)) as auc_pairs,
           sum(positives) as auc_positives, sum(negatives) as auc_negatives
    from (
        select g.window_end, st.window_id, st.slice_id, st.positives, st.negatives,
               coalesce(sum(st.negatives) over (partition by g.window_end, st.window_id, st.slice_id order by st.bin
                                                rows between unbounded preceding and 1 preceding), 0)
                   as negatives_below
        from score_states as st
        cross join bounds
        cross join lateral generate_series(greatest(st.valid_from, bounds.first_end),
                                           least(st.valid_to, bounds.last_end), {{ step }}) as g(window_end)
        where g.window_end < st.valid_to and (st.positives <> 0 or st.negatives <> 0)
    ) as ranked
    group by {{ key_list }}
),

{#- Every window end x window x slice values gets a row (zeros when empty). #}
unioned as (
    select {{ key_list }}, {{ sums.keys() | join(', ') }}
        {%- for name, type in ranks.items() %}, null::{{ type }} as {{ name }}{% endfor %}
    from pairs
    union all
    select window_end, window_id, slice_id
        {%- for name, type in sums.items() %}, null::{{ type }}{% endfor %}
        {%- for name, type in ranks.items() %}, null::{{ type }}{% endfor %}
    from window_ends cross join windows cross join slice_values
    union all
    select {{ key_list }}{% for name, type in sums.items() %}, null::{{ type }}{% endfor %},
           auc_pairs, auc_positives, auc_negatives, null::double precision
    from auc
    union all
    select {{ key_list }}{% for name, type in sums.items() %}, null::{{ type }}{% endfor %},
           null::double precision, null::numeric, null::numeric, calibration_gap
    from calibration
),

summed as (
    select {{ key_list }}
        {%- for name in sums.keys() | list + ranks.keys() | list %}, sum({{ name }}) as {{ name }}{% endfor %}
    from unioned
    group by {{ key_list }}
)

select
    summed.window_end at time zone 'UTC' as window_end,
    windows.window_size,
    {%- for name in slice_sql %}
    slice_values.{{ name }},
    {%- endfor %}
    coalesce(n_predictions, 0)::bigint as n_predictions,
    coalesce(n_labelled, 0)::bigint as n_labelled,
    coalesce(n_matured, 0)::bigint as n_matured,
    n_labelled::double precision / nullif(n_matured, 0) as label_coverage,
    n_matured::double precision / nullif(n_predictions, 0) as matured_share,
    n_correct::double precision / nullif(n_labelled, 0) as accuracy,
    sum_confidence / nullif(n_scored, 0) as expected_accuracy,
    calibration_gap / nullif(n_labelled_scored, 0) as calibration_error,
    coalesce(calibration_gap / nullif(n_labelled_scored, 0) <= {{ max_error }} and n_labelled_scored >= {{ min_trust }},
             false) as estimate_trusted,
    tp::double precision / nullif(tp + fp, 0) as precision,
    tp::double precision / nullif(tp + fn, 0) as recall,
    2 * tp::double precision / nullif(2 * tp + fp + fn, 0) as f1,
    sum_log_loss / nullif(n_labelled_scored, 0) as log_loss,
    sum_brier / nullif(n_labelled_scored, 0) as brier,
    auc_pairs / nullif((auc_positives * auc_negatives)::double precision, 0) as roc_auc,
    sum_abs_error / nullif(n_labelled, 0) as mae,
    sqrt(sum_squared_error / nullif(n_labelled, 0)) as rmse,
    sum_error / nullif(n_labelled, 0) as bias,
    case when n_labelled > 0 then business_value end as business_value,
    {{ as_of }} as computed_at
from summed
inner join windows on windows.window_id = summed.window_id
inner join slice_values on slice_values.slice_id = summed.slice_id
{%- endmacro %}
