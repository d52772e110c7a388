{#- One row per key of a prediction log, joined to outcomes that arrive late, judged at dbt_learn.as_of_sql():

      {{ dbt_learn.ml_label_predictions(ref('lead_scores_log'), ref('conversions'), key='lead_id',
             outcome_column='converted', outcome_time_column='converted_at', maturity='7 days',
             missing_outcome='negative', missing_outcome_value=false) }}

    The prediction of a key is the one valid at decision time: its earliest log row (decision time, then scored_at,
    then model_version); later rows (a duplicate event, a re-score by a newer version) are counted in
    prediction_events, never as predictions. Outcomes known after as_of do not exist yet; the earliest known one wins
    and a second, different value sets has_conflicting_outcomes. A key without an outcome is 'pending' until
    `maturity` has passed since its decision, then 'assumed_negative' (label = missing_outcome_value) or
    'unlabelled'. An outcome timestamped before the decision means the decision was made after the fact: status
    'outcome_before_decision', no label. Rows that cannot be judged (NULL key, decision time, outcome value or
    outcome time) and outcomes of keys never predicted are left out. Plain SQL: no PL/Python. -#}
{% macro ml_label_predictions(predictions, outcomes, key, outcome_column='outcome', outcome_time_column='observed_at',
                              decision_time_column='scored_at', maturity=none, missing_outcome='unknown',
                              missing_outcome_value=none, since=none, columns=none, recompute=none) -%}
  {{ return(adapter.dispatch('ml_label_predictions', 'dbt_learn')(predictions, outcomes, key, outcome_column,
      outcome_time_column, decision_time_column, maturity, missing_outcome, missing_outcome_value, since, columns,
      recompute)) }}
{%- endmacro %}

{% macro default__ml_label_predictions(predictions, outcomes, key, outcome_column, outcome_time_column,
                                       decision_time_column, maturity, missing_outcome, missing_outcome_value,
                                       since, columns, recompute) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {%- set a = dbt_learn.label_predictions_arguments(predictions, outcomes, key, outcome_column, outcome_time_column,
        decision_time_column, maturity, missing_outcome, missing_outcome_value, since, columns, recompute) -%}
  {%- set as_of = dbt_learn.as_of_sql() -%}
  {%- set decided = dbt_learn.monitoring_time_sql(predictions, decision_time_column, 'p', 'decision_time_column') -%}
  {%- set observed = dbt_learn.monitoring_time_sql(outcomes, outcome_time_column, 'o', 'outcome_time_column') -%}
  {%- set decided_c = dbt_learn.monitoring_time_sql(predictions, decision_time_column, 'c', 'decision_time_column') -%}
  {%- set keys = a['keys'] | join(', ') -%}
  {%- set on = {'p': [], 'c': [], 'o': [], 'first_outcome': [], 'conflict': []} -%}
  {%- for column in a['keys'] -%}
    {%- for alias in ['p', 'c', 'o'] -%}{%- do on[alias].append(alias ~ '.' ~ column) -%}{%- endfor -%}
    {%- do on['first_outcome'].append('f.' ~ column ~ ' = d.' ~ column) -%}
    {%- do on['conflict'].append('c.' ~ column ~ ' = d.' ~ column) -%}
  {%- endfor -%}
with __dbt_learn_log as (
    -- log rows that can be judged: key and decision time known, decided by as_of
    select
        {%- for column in a['keys'] %}
        p.{{ column }},
        {%- endfor %}
        {{ decided }} as decided_at,
        {%- if a['scored_at'] %}
        p.{{ a['scored_at'] }} as __dbt_learn_scored_at,
        {%- endif %}
        {%- for column in a['columns'] %}
        p.{{ column }},
        {%- endfor %}
        p.model_version,
        p.prediction
        {%- for column in a['probabilities'] %},
        p.{{ column }}
        {%- endfor %}
    from {{ predictions }} as p
    where {{ decided }} <= {{ as_of }}
        {%- for column in a['keys'] %}
        and p.{{ column }} is not null
        {%- endfor %}
        {%- if a['since'] %}
        -- incremental callers: only keys with a log row since `since`, all of their rows (earlier ones decide)
        and ({{ on['p'] | join(', ') }}) in (
            select {{ on['c'] | join(', ') }}
            from {{ predictions }} as c
            where {{ dbt_learn.monitoring_since_sql(predictions, decision_time_column, 'c', a['since'],
                                                    'decision_time_column') }}
                and {{ decided_c }} <= {{ as_of }}
        )
        {%- endif %}
),

__dbt_learn_decisions as (
    -- the prediction valid at decision time: the key's earliest row; its other rows are counted, not used
    select * from (
        select distinct on ({{ keys }})
            {{ keys }},
            decided_at,
            {%- for column in a['columns'] %}
            {{ column }},
            {%- endfor %}
            model_version,
            prediction,
            {%- for column in a['probabilities'] %}
            {{ column }},
            {%- endfor %}
            count(*) over (partition by {{ keys }}) as prediction_events
        from __dbt_learn_log
        order by {{ keys }}, decided_at
            {%- if a['scored_at'] %}, __dbt_learn_scored_at nulls last{% endif %}, model_version nulls last
    ) as first_rows
    {%- if a['since'] %}
    where decided_at >= {{ a['since'] }}
    {%- endif %}
),

__dbt_learn_outcomes as (
    -- outcomes known at as_of, of predicted keys only; NULL values and times say nothing and are left out
    select
        {%- for column in a['keys'] %}
        o.{{ column }},
        {%- endfor %}
        o.{{ a['outcome'] }} as outcome,
        {{ observed }} as outcome_at
    from {{ outcomes }} as o
    where o.{{ a['outcome'] }} is not null
        and {{ observed }} <= {{ as_of }}
        and ({{ on['o'] | join(', ') }}) in (
            select {{ keys }} from __dbt_learn_decisions)
),

__dbt_learn_first_outcomes as (
    -- the earliest outcome of each key (ties: the smallest value)
    {{ dbt_utils.deduplicate('__dbt_learn_outcomes', keys, 'outcome_at, outcome') | indent(4) }}
),

__dbt_learn_conflicts as (
    -- the same value reported twice is a duplicate; two different values are a conflict
    select {{ keys }}
    from __dbt_learn_outcomes
    group by {{ keys }}
    having count(distinct outcome) > 1
),

__dbt_learn_judged as (
    select
        d.*,
        f.outcome,
        f.outcome_at,
        {%- if a['maturity'] %}
        d.decided_at + {{ a['maturity'] }} <= {{ as_of }} as is_matured,
        {%- else %}
        true as is_matured,
        {%- endif %}
        c.{{ a['keys'][0] }} is not null as has_conflicting_outcomes
    from __dbt_learn_decisions as d
    left join __dbt_learn_first_outcomes as f on {{ on['first_outcome'] | join(' and ') }}
    left join __dbt_learn_conflicts as c on {{ on['conflict'] | join(' and ') }}
)

select
    {{ keys }},
    {%- for column in a['columns'] %}
    {{ column }},
    {%- endfor %}
    decided_at,
    model_version,
    prediction,
    {%- for column in a['probabilities'] %}
    {{ column }},
    {%- endfor %}
    prediction_events,
    outcome,
    outcome_at,
    case
        when outcome_at >= decided_at then outcome
        {%- if a['negative'] %}
        when outcome_at is null and is_matured then {{ a['negative'] }}
        {%- endif %}
    end as label,
    case
        when outcome_at < decided_at then 'outcome_before_decision'
        when outcome_at is not null then 'labelled'
        when not is_matured then 'pending'
        else {{ "'assumed_negative'" if a['negative'] else "'unlabelled'" }}
    end as label_status,
    is_matured,
    has_conflicting_outcomes
from __dbt_learn_judged
{%- endmacro %}
