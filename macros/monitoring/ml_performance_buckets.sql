{#- Additive performance statistics of labelled predictions, one row per time bucket (of decided_at) and slice
    values, for ml_trailing_performance to sum over trailing windows:

      {{ config(materialized='incremental', incremental_strategy='delete+insert', unique_key='bucket_start') }}
      {{ dbt_learn.ml_performance_buckets(ref('lead_labels'), positive_value=true, score_column='probability_true',
                                          slices=['source'], recompute='2 days') }}

    Inside an incremental model a run recomputes only the buckets from date_bin(as_of - recompute) on, the newest
    bucket it already has and every later one, and every bucket that still had pending rows at the previous run,
    reading the input with a filter on decided_at that an index or partition can serve. Full documentation:
    macros/monitoring/performance.yml and performance.md. -#}
{% macro ml_performance_buckets(labelled, task='classification', bucket='1 hour', slices=[], positive_value=none,
                                score_column=none, costs=none, score_bins=1000, recompute=none) -%}
  {{ return(adapter.dispatch('ml_performance_buckets', 'dbt_learn')(labelled, task, bucket, slices, positive_value,
      score_column, costs, score_bins, recompute)) }}
{%- endmacro %}

{% macro default__ml_performance_buckets(labelled, task, bucket, slices, positive_value, score_column, costs,
                                         score_bins, recompute) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {%- set context = 'ml_performance_buckets(' ~ (labelled.identifier if labelled.identifier is defined else labelled)
      ~ ')' -%}
  {%- if task not in ['classification', 'regression'] -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": task must be 'classification' or 'regression'; "
        ~ "got '" ~ task ~ "'.") }}
  {%- endif -%}
  {%- set classification = task == 'classification' -%}
  {%- set binary = positive_value is not none -%}
  {%- set bucket_sql = dbt_learn.ml_perf_interval_sql(context, 'bucket', bucket, allow_months=false) -%}
  {%- set slices = dbt_learn.ml_perf_name_list(context, 'slices', slices) -%}
  {%- set bins = dbt_learn.ml_perf_number(context, 'score_bins', score_bins, 2, 100000, whole=true) | int -%}
  {%- for argument, value in [('positive_value', positive_value), ('score_column', score_column), ('costs', costs)]
      if value is not none and not classification -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " applies to classification only; "
        ~ "remove it or set task='classification'.") }}
  {%- endfor -%}
  {%- for argument, value in [('score_column', score_column), ('costs', costs)] if value is not none and not binary -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": " ~ argument ~ " needs positive_value, the class "
        ~ "that counts as positive (e.g. positive_value=true); without it only accuracy is computed (multiclass).") }}
  {%- endfor -%}
  {%- set positive_sql = dbt_learn.ml_perf_value_sql(context, 'positive_value', positive_value) if binary else none -%}
  {%- set cost_terms = [] -%}
  {%- if costs is not none -%}
    {%- set outcomes = {'true_positive': 'tp', 'false_positive': 'fp', 'false_negative': 'fn',
                        'true_negative': 'tn'} -%}
    {%- if costs is not mapping or not costs -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": costs must be a mapping of true_positive, "
          ~ "false_positive, false_negative, true_negative to numbers (the value of one such row; costs negative); "
          ~ "got " ~ costs) }}
    {%- endif -%}
    {%- for outcome, value in costs.items() -%}
      {%- if outcome not in outcomes -%}
        {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": unknown costs key '" ~ outcome ~ "'; the keys "
            ~ "are true_positive, false_positive, false_negative, true_negative.") }}
      {%- endif -%}
      {%- set number = dbt_learn.ml_perf_number(context, 'costs.' ~ outcome, value) -%}
      {%- do cost_terms.append('(' ~ number ~ ')::double precision * sum(' ~ outcomes[outcome] ~ ')') -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set outputs = ['bucket_start', 'bucket_end', 'n_predictions', 'n_labelled', 'n_matured', 'n_scored',
      'n_labelled_scored', 'n_correct', 'tp', 'fp', 'fn', 'tn', 'sum_log_loss', 'sum_brier', 'sum_confidence',
      'score_bin_positives', 'score_bin_negatives', 'calibration_count', 'calibration_score_sum',
      'calibration_positives', 'sum_error', 'sum_abs_error', 'sum_squared_error', 'business_value', 'computed_at',
      'score', 'score_bin', 'calibration_bin', 'confidence', 'error', 'is_matured', 'is_labelled', 'is_correct',
      'predicted_positive', 'actual_positive', 'labelled_score_sum', 'labelled_positives', 'labelled_negatives'] -%}
  {%- for name in slices if name in outputs -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": slice column '" ~ name ~ "' has the name of a "
        ~ "column this macro computes; rename it in the model that builds " ~ labelled ~ ".") }}
  {%- endfor -%}
  {%- set columns = dbt_learn.ml_perf_require_columns(context, labelled, 'labelled',
      ['decided_at', 'prediction', 'label', 'label_status']) -%}
  {%- do dbt_learn.ml_perf_require_columns(context, labelled, 'slices', slices) -%}
  {%- if score_column is not none -%}
    {%- do dbt_learn.ml_perf_require_columns(context, labelled, 'score_column',
        dbt_learn.ml_perf_name_list(context, 'score_column', score_column)) -%}
  {%- endif -%}
  {%- do dbt_learn.ml_perf_require_incremental_config(context, 'bucket_start') -%}
  {%- set incremental = is_incremental() -%}
  {%- if recompute is none and config.get('materialized') == 'incremental' -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ context ~ ": an incremental model needs recompute, how far "
        ~ "back each run recomputes buckets: at least how late predictions and outcomes that change a matured row "
        ~ "can arrive, e.g. the label maturity plus one bucket (recompute='2 days' for maturity='1 day', "
        ~ "bucket='1 day').") }}
  {%- endif -%}
  {%- set recompute_sql = dbt_learn.ml_perf_interval_sql(context, 'recompute', recompute)
      if recompute is not none else none -%}
  {%- set as_of = dbt_learn.as_of_sql() -%}
  {%- set origin = dbt_learn.monitoring_bucket_origin_sql() -%}
  {%- set slice_sql = [] -%}
  {%- for name in slices -%}{%- do slice_sql.append(dbt_learn.quote_identifier(name)) -%}{%- endfor -%}
  {%- set probabilities = [] -%}
  {%- for name in columns if (name | lower).startswith('probability_') -%}
    {%- do probabilities.append('l.' ~ dbt_learn.quote_identifier(name) ~ '::double precision') -%}
  {%- endfor -%}
  {%- if score_column is not none -%}
    {%- set score_sql = 'least(greatest(l.' ~ dbt_learn.quote_identifier(score_column)
        ~ '::double precision, 0), 1)' -%}
    {%- set confidence = 'greatest(' ~ score_sql ~ ', 1 - ' ~ score_sql ~ ')' -%}
  {%- elif classification and probabilities -%}
    {%- set confidence = 'greatest(' ~ probabilities | join(', ') ~ ')' -%}
  {%- else -%}
    {%- set confidence = 'null::double precision' -%}
  {%- endif -%}
  {%- set groups = (['bucket_start'] + slice_sql) | join(', ') -%}
  {%- set binned_only = "filter (where score_bin is not null)" -%}
with prepared as (
    select
        date_bin({{ bucket_sql }}, {{ dbt_learn.monitoring_time_sql(labelled, 'decided_at', 'l', 'decided_at') }},
                 {{ origin }}) as bucket_start,
        {%- for name in slice_sql %}
        l.{{ name }},
        {%- endfor %}
        l.label_status is distinct from 'pending' as is_matured,
        (l.label_status in ('labelled', 'assumed_negative') and l.label is not null and l.prediction is not null)
            as is_labelled,
        {{ 'l.prediction = l.label' if classification else 'null::boolean' }} as is_correct,
        {{ 'l.prediction = ' ~ positive_sql if binary else 'null::boolean' }} as predicted_positive,
        {{ 'l.label = ' ~ positive_sql if binary else 'null::boolean' }} as actual_positive,
        {{ score_sql if score_column is not none else 'null::double precision' }} as score,
        {{ confidence }} as confidence,
        {{ '(l.prediction - l.label)::double precision' if not classification else 'null::double precision' }} as error
    from {{ labelled }} as l
    where {{ dbt_learn.monitoring_time_sql(labelled, 'decided_at', 'l', 'decided_at') }} <= {{ as_of }}
    {%- if incremental %}
      {#- Sargable on decided_at: the bound is one value per statement (the subquery runs once, as an InitPlan). #}
      {%- set resume_sql = "(select coalesce(least(min(done.bucket_start) filter (where done.n_matured < "
          ~ "done.n_predictions), max(done.bucket_start)), '-infinity') from " ~ this ~ " as done)" %}
      and {{ dbt_learn.monitoring_since_sql(labelled, 'decided_at', 'l', 'least(date_bin(' ~ bucket_sql ~ ', ' ~ as_of
          ~ ' - ' ~ recompute_sql ~ ', ' ~ origin ~ '), ' ~ resume_sql ~ ')', 'decided_at') }}
    {%- endif %}
),

scored as (
    select
        prepared.*,
        {#- numeric: 0.123 * 1000 is 123 exactly, so scores with 3 decimals never share a bin of 1000 #}
        case when is_labelled and score is not null
            then least(floor(score::numeric * {{ bins }})::integer, {{ bins - 1 }}) end as score_bin,
        case when is_labelled and score is not null then least(floor(score::numeric * 10)::integer, 9) end
            as calibration_bin
    from prepared
),

{#- Grouped by score bin first, so the arrays are built from at most score_bins rows per bucket. #}
binned as (
    select
        {{ groups }}, score_bin, calibration_bin,
        count(*) as n_predictions,
        count(*) filter (where is_labelled) as n_labelled,
        count(*) filter (where is_matured) as n_matured,
        count(confidence) as n_scored,
        count(score) filter (where is_labelled) as n_labelled_scored,
        count(*) filter (where is_labelled and is_correct) as n_correct,
        count(*) filter (where is_labelled and predicted_positive and actual_positive) as tp,
        count(*) filter (where is_labelled and predicted_positive and not actual_positive) as fp,
        count(*) filter (where is_labelled and not predicted_positive and actual_positive) as fn,
        count(*) filter (where is_labelled and not predicted_positive and not actual_positive) as tn,
        {#- log loss clips the score to [1e-15, 1 - 1e-15], as sklearn did before 1.5 #}
        sum(case when actual_positive then -ln(greatest(score, 1e-15)) else -ln(greatest(1 - score, 1e-15)) end)
            filter (where is_labelled) as sum_log_loss,
        sum((score - case when actual_positive then 1 else 0 end) ^ 2) filter (where is_labelled) as sum_brier,
        sum(score) filter (where is_labelled) as labelled_score_sum,
        count(score) filter (where is_labelled and actual_positive) as labelled_positives,
        count(score) filter (where is_labelled and not actual_positive) as labelled_negatives,
        sum(confidence) as sum_confidence,
        sum(error) filter (where is_labelled) as sum_error,
        sum(abs(error)) filter (where is_labelled) as sum_abs_error,
        sum(error ^ 2) filter (where is_labelled) as sum_squared_error
    from scored
    group by {{ groups }}, score_bin, calibration_bin
)

select
    bucket_start,
    bucket_start + {{ bucket_sql }} as bucket_end,
    {%- for name in slice_sql %}
    {{ name }},
    {%- endfor %}
    sum(n_predictions)::bigint as n_predictions,
    sum(n_labelled)::bigint as n_labelled,
    sum(n_matured)::bigint as n_matured,
    {%- if classification %}
    sum(n_scored)::bigint as n_scored,
    sum(n_labelled_scored)::bigint as n_labelled_scored,
    sum(n_correct)::bigint as n_correct,
    {%- for name in ['tp', 'fp', 'fn', 'tn'] %}
    {{ 'sum(' ~ name ~ ')' if binary else 'null' }}::bigint as {{ name }},
    {%- endfor %}
    {%- else %}
    {%- for name in ['n_scored', 'n_labelled_scored', 'n_correct', 'tp', 'fp', 'fn', 'tn'] %}
    null::bigint as {{ name }},
    {%- endfor %}
    {%- endif %}
    {%- if score_column is not none %}
    coalesce(sum(sum_log_loss), 0)::double precision as sum_log_loss,
    coalesce(sum(sum_brier), 0)::double precision as sum_brier,
    {%- else %}
    null::double precision as sum_log_loss,
    null::double precision as sum_brier,
    {%- endif %}
    {{ 'coalesce(sum(sum_confidence), 0)' if confidence != 'null::double precision' else 'null' }}::double precision
        as sum_confidence,
    {%- if score_column is not none %}
    {{ dbt_learn.ml_perf_dense_array_sql('array_agg(score_bin) ' ~ binned_only,
        'array_agg(labelled_positives) ' ~ binned_only, bins, 'integer') }} as score_bin_positives,
    {{ dbt_learn.ml_perf_dense_array_sql('array_agg(score_bin) ' ~ binned_only,
        'array_agg(labelled_negatives) ' ~ binned_only, bins, 'integer') }} as score_bin_negatives,
    {{ dbt_learn.ml_perf_dense_array_sql('array_agg(calibration_bin) ' ~ binned_only,
        'array_agg(n_labelled_scored) ' ~ binned_only, 10, 'integer') }} as calibration_count,
    {{ dbt_learn.ml_perf_dense_array_sql('array_agg(calibration_bin) ' ~ binned_only,
        'array_agg(labelled_score_sum) ' ~ binned_only, 10, 'double precision') }} as calibration_score_sum,
    {{ dbt_learn.ml_perf_dense_array_sql('array_agg(calibration_bin) ' ~ binned_only,
        'array_agg(labelled_positives) ' ~ binned_only, 10, 'integer') }} as calibration_positives,
    {%- else %}
    {%- for name, type in [('score_bin_positives', 'integer'), ('score_bin_negatives', 'integer'),
        ('calibration_count', 'integer'), ('calibration_score_sum', 'double precision'),
        ('calibration_positives', 'integer')] %}
    null::{{ type }}[] as {{ name }},
    {%- endfor %}
    {%- endif %}
    {%- for name in ['sum_error', 'sum_abs_error', 'sum_squared_error'] %}
    {{ 'coalesce(sum(' ~ name ~ '), 0)' if not classification else 'null' }}::double precision as {{ name }},
    {%- endfor %}
    {{ cost_terms | join(' + ') if cost_terms else 'null' }}::double precision as business_value,
    {{ as_of }} as computed_at
from binned
group by {{ groups }}
{%- endmacro %}
