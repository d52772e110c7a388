{#- Point-in-time (as-of) join: for each spine row (entity + time), each feature source contributes its latest row
    that was both true and known at the spine time:

      event_time <= t  and  coalesce(known_at, event_time) <= t

    so a row loaded after t is never returned even when its event_time is earlier (the leak of naive feature-store
    joins). Ties on event_time go to the later known_at, then to the greatest feature values in column order (text
    in byte order, nulls last), so equal inputs always give equal outputs. time_column none is the serving case:
    every spine row as of dbt_learn.as_of_sql(), in an added `as_of` column; the same SQL otherwise, so serving and
    training values agree by construction. One LATERAL ... ORDER BY ... LIMIT 1 per source: with an index on
    (entity, event_time) each lookup is an index probe (for a timestamp-without-time-zone column, index
    `(entity, (event_time at time zone 'UTC'))`, the expression monitoring_time_sql compares). -#}
{% macro ml_as_of_join(spine, entity_column, time_column=none, features=none) -%}
  {{ return(adapter.dispatch('ml_as_of_join', 'dbt_learn')(spine, entity_column, time_column, features)) }}
{%- endmacro %}

{% macro default__ml_as_of_join(spine, entity_column, time_column, features) -%}
  {%- if not execute -%}
    {{ return('select 1') }}
  {%- endif -%}
  {%- set macro = 'ml_as_of_join' -%}
  {%- set base = dbt_learn.pit_spine(macro, spine, entity_column, time_column) -%}
  {%- if features is mapping or features is string or not features -%}
    {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ spine ~ "): features must be a non-empty list "
        ~ "of sources, each {'relation': ref(...), 'entity_column': ..., 'event_time_column': ..., "
        ~ "'known_at_column': ..., 'columns': [...], 'prefix': ...}.") }}
  {%- endif -%}
  {%- set sources = [] -%}
  {%- for feature in features -%}
    {%- set argument = 'features[' ~ loop.index0 ~ ']' -%}
    {%- do dbt_learn.pit_check_keys(macro, argument, feature,
          ['relation', 'entity_column', 'event_time_column', 'known_at_column', 'columns', 'prefix'],
          ['relation', 'event_time_column']) -%}
    {%- set relation = feature['relation'] -%}
    {%- set columns = dbt_learn.pit_columns(macro, relation) -%}
    {%- set entities = dbt_learn.pit_names(macro, argument ~ '.entity_column',
                                           feature.get('entity_column') or entity_column) -%}
    {%- if entities | length != base.entity_keys | length -%}
      {{ exceptions.raise_compiler_error("dbt_learn: " ~ macro ~ "(" ~ relation ~ "): " ~ argument ~ ".entity_column "
          ~ entities | join(', ') ~ " must pair one to one with the spine's entity_column.") }}
    {%- endif -%}
    {%- do dbt_learn.pit_require(macro, relation, columns, argument ~ '.entity_column', entities) -%}
    {%- do dbt_learn.pit_require(macro, relation, columns, argument ~ '.event_time_column',
                                 [feature['event_time_column']]) -%}
    {%- set wanted = [] if feature.get('columns') is none else dbt_learn.pit_names(macro, argument ~ '.columns',
                                                                                   feature['columns']) -%}
    {%- do dbt_learn.pit_require(macro, relation, columns, argument ~ '.columns', wanted) -%}
    {%- set prefix = feature.get('prefix') or '' -%}
    {%- set event = dbt_learn.monitoring_time_sql(relation, feature['event_time_column'], 'source_rows',
                                                  argument ~ '.event_time_column') -%}
    {%- if feature.get('known_at_column') is none -%}
      {%- set known = event -%}
    {%- else -%}
      {%- do dbt_learn.pit_require(macro, relation, columns, argument ~ '.known_at_column',
                                   [feature['known_at_column']]) -%}
      {%- set known = 'coalesce(' ~ dbt_learn.monitoring_time_sql(relation, feature['known_at_column'], 'source_rows',
                                    argument ~ '.known_at_column') ~ ', ' ~ event ~ ')' -%}
    {%- endif -%}
    {%- set outputs = [] -%}
    {%- set order = [event ~ ' desc'] + ([known ~ ' desc'] if feature.get('known_at_column') is not none else []) -%}
    {%- for name in wanted -%}
      {%- set expression = 'source_rows.' ~ dbt_learn.quote_identifier(name) -%}
      {%- do outputs.append({'name': prefix ~ name, 'sql': expression}) -%}
      {%- do order.append(dbt_learn.pit_order_key(expression, columns.types[name]) ~ ' desc nulls last') -%}
    {%- endfor -%}
    {%- do outputs.append({'name': prefix ~ 'event_time', 'sql': event}) -%}
    {%- do outputs.append({'name': prefix ~ 'known_at', 'sql': known}) -%}
    {%- do dbt_learn.pit_claim(macro, relation, base.taken, outputs | map(attribute='name') | list, argument,
          "Give each source its own 'prefix' (or rename the column).") -%}
    {%- set source_keys = [] -%}
    {%- for name in entities -%}
      {%- do source_keys.append('source_rows.' ~ dbt_learn.quote_identifier(name)) -%}
    {%- endfor -%}
    {%- do sources.append({'relation': relation, 'outputs': outputs, 'event': event, 'known': known,
                           'has_known': feature.get('known_at_column') is not none, 'order': order,
                           'match': dbt_learn.pit_entity_match(source_keys, base.entity_keys)}) -%}
  {%- endfor %}
select
    {{ base.select | join(',\n    ') }}
    {%- for source in sources %}
    {%- set alias = 'feature_' ~ loop.index %}
    {%- for output in source.outputs %},
    {{ alias }}.{{ dbt_learn.quote_identifier(output.name) }}
    {%- endfor %}
    {%- endfor %}
from {{ spine }} as spine
{%- for source in sources %}
left join lateral (
    select
        {%- for output in source.outputs %}
        {{ output.sql }} as {{ dbt_learn.quote_identifier(output.name) }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ source.relation }} as source_rows
    where {{ source.match }}
      and {{ source.event }} <= {{ base.time }}
      {%- if source.has_known %}
      and {{ source.known }} <= {{ base.time }}
      {%- endif %}
    order by {{ source.order | join(', ') }}
    limit 1
) as feature_{{ loop.index }} on true
{%- endfor %}
{%- endmacro %}
