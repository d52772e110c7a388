{#- Trailing-window aggregate features ("conversion rate of leads from this source over the previous 3 hours"): for
    each spine row (entity + time t), aggregate the events of the same entity with

      t - window <= event_time < t  and  coalesce(known_at, event_time) <= t

    The window is half-open, so an event at exactly t (the spine row's own event) is not its own feature, and an
    event known after t (a conversion recorded later) is invisible at t. time_column none is the serving case: every
    spine row as of dbt_learn.as_of_sql(), in an added `as_of` column; otherwise the same SQL, so serving and training
    values agree by construction. Aggregates are structured ({'name', 'function', 'column'}), never raw SQL.
    group_column: rows of the window sharing its value (e.g. a lead_id whose event fired twice) count once, as their
    latest row. Window arithmetic runs in UTC, so '1 day' is 24 hours whatever the session's TimeZone. -#}
{% macro ml_trailing_aggregate(spine, entity_column, time_column=none, events=none, event_entity_column=none,
                               event_time_column=none, known_at_column=none, window='3 hours', aggregates=none,
                               group_column=none) -%}
  {{ return(adapter.dispatch('ml_trailing_aggregate', 'dbt_learn')(spine, entity_column, time_column, events,
      event_entity_column, event_time_column, known_at_column, window, aggregates, group_column)) }}
{%- endmacro %}

{% macro default__ml_trailing_aggregate(spine, entity_column, time_column, events, event_entity_column,
                                        event_time_column, known_at_column, window, aggregates, group_column) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {%- set macro = 'ml_trailing_aggregate' -%}
  {%- if events is none or event_time_column is none -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ spine ~ "): events and event_time_column are "
        ~ "required: the relation of events to aggregate and its event time column.") }}
  {%- endif -%}
  {%- set base = dbt_learn.pit_spine(macro, spine, entity_column, time_column) -%}
  {%- set columns = dbt_learn.pit_columns(macro, events) -%}
  {%- set entities = dbt_learn.pit_names(macro, 'event_entity_column', event_entity_column or entity_column) -%}
  {%- if entities | length != base.entity_keys | length -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ events ~ "): event_entity_column "
        ~ entities | join(', ') ~ " must pair one to one with the spine's entity_column.") }}
  {%- endif -%}
  {%- do dbt_learn.pit_require(macro, events, columns, 'event_entity_column', entities) -%}
  {%- do dbt_learn.pit_require(macro, events, columns, 'event_time_column', [event_time_column]) -%}
  {%- set interval = dbt_learn.pit_interval(macro, 'window', window) -%}
  {%- set event = dbt_learn.monitoring_time_sql(events, event_time_column, 'event_rows', 'event_time_column') -%}
  {%- set known = event -%}
  {%- if known_at_column is not none -%}
    {%- do dbt_learn.pit_require(macro, events, columns, 'known_at_column', [known_at_column]) -%}
    {%- set known = 'coalesce(' ~ dbt_learn.monitoring_time_sql(events, known_at_column, 'event_rows',
                                  'known_at_column') ~ ', ' ~ event ~ ')' -%}
  {%- endif -%}
  {%- if group_column is not none -%}
    {%- do dbt_learn.pit_require(macro, events, columns, 'group_column', [group_column]) -%}
  {%- endif -%}
  {%- set measures = dbt_learn.pit_aggregates(macro, events, columns, aggregates, 'event_rows') -%}
  {%- do dbt_learn.pit_claim(macro, events, base.taken, measures | map(attribute='name') | list, 'aggregates',
        "Name each aggregate differently from the spine's columns (and from 'as_of' when serving).") -%}
  {%- set event_keys = [] -%}
  {%- for name in entities -%}
    {%- do event_keys.append('event_rows.' ~ dbt_learn.quote_identifier(name)) -%}
  {%- endfor -%}
  {%- set order = [event ~ ' desc'] + ([known ~ ' desc'] if known_at_column is not none else []) -%}
  {%- for name in measures | map(attribute='column') | reject('none') | unique -%}
    {%- do order.append(dbt_learn.pit_order_key('event_rows.' ~ dbt_learn.quote_identifier(name), columns.types[name])
                        ~ ' desc nulls last') -%}
  {%- endfor -%}
  {%- set time = base.time -%}
  {%- set start = "((" ~ time ~ " at time zone 'UTC') - " ~ interval ~ ") at time zone 'UTC'" -%}
  {%- set conditions = [dbt_learn.pit_entity_match(event_keys, base.entity_keys),
                         event ~ ' >= ' ~ start, event ~ ' < ' ~ time] -%}
  {%- if known_at_column is not none -%}
    {%- do conditions.append(known ~ ' <= ' ~ time) -%}
  {%- endif -%}
select
    {{ base.select | join(',\n    ') }}
    {%- for measure in measures %},
    window_values.{{ dbt_learn.quote_identifier(measure.name) }}
    {%- endfor %}
from {{ spine }} as spine
left join lateral (
    select
        {%- for measure in measures %}
        {{ measure.sql }} as {{ dbt_learn.quote_identifier(measure.name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    {%- if group_column is none %}
    from {{ events }} as event_rows
    where {{ conditions | join('\n      and ') }}
    {%- else %}
    {#- the deduplicated rows keep the alias event_rows, so the same aggregate SQL reads either form #}
    {%- set group = 'event_rows.' ~ dbt_learn.quote_identifier(group_column) %}
    from (
        select distinct on ({{ group }}) event_rows.*
        from {{ events }} as event_rows
        where {{ (conditions + [group ~ ' is not null']) | join('\n          and ') }}
        order by {{ group }}, {{ order | join(', ') }}
    ) as event_rows
    {%- endif %}
) as window_values on {{ time }} is not null
    {%- for key in base.entity_keys %} and {{ key }} is not null{% endfor %}
{%- endmacro %}
