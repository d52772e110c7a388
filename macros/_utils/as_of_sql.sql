{#- The moment a run treats as "now", as a timestamptz SQL expression: the var dbt_learn_as_of when set (a replay
    or a backfill: `dbt build --vars '{dbt_learn_as_of: "2026-11-01 12:00+00"}'`), else now(). Scores' scored_at,
    label maturity and the end of the monitoring windows all read it, so one var moves a whole run in time. -#}
{% macro as_of_sql() -%}
  {%- set as_of = dbt_learn.get_config('dbt_learn_as_of') -%}
  {%- if as_of is none or as_of == '' -%}
    {{ return('now()') }}
  {%- endif -%}
  {{ return('(' ~ dbt_learn.sql_string_literal(as_of) ~ '::timestamptz)') }}
{%- endmacro %}
