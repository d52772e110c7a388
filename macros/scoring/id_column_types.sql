{#- Internal to ml_score: per id column of `relation` (a relation or a subquery), its type's oid, its name without a
    length or precision modifier, and how a scored row carries it to the runtime: a fixed-width type (integers,
    floats, dates and times, uuid, boolean) as `send` bytes of `width` bytes inside the row's one bytea, any other
    type as its own value (width 0). -#}
{% macro id_column_types(relation, ids) -%}
  {%- if not ids -%}
    {{ return([]) }}
  {%- endif -%}
  {%- set q = dbt_learn.quote_identifier -%}
  {%- set selected = [] -%}
  {%- for column in ids -%}
    {%- do selected.append('r.' ~ q(column)) -%}
  {%- endfor -%}
  {%- set declared = dbt_learn.query_column_types('select ' ~ selected | join(', ') ~ ' from ' ~ relation ~ ' as r') -%}
  {#- Types whose binary send form is exactly typlen bytes. -#}
  {%- set fixed = ['smallint', 'integer', 'bigint', 'real', 'double precision', 'date', 'time without time zone',
                   'timestamp without time zone', 'timestamp with time zone', 'uuid', 'boolean', 'oid',
                   'interval', 'money'] -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select t::regtype::oid::int, format_type(t::regtype, null), p.typsend::regproc::text, p.typlen
       from unnest(%s::text[]) with ordinality as u(t, n) join pg_type p on p.oid = t::regtype
       order by n", [declared.values() | list]) -%}
  {%- set types = [] -%}
  {%- for oid, name, send, width in rows -%}
    {%- do types.append({'oid': oid, 'type': name, 'send': send,
                         'width': width if name in fixed and width > 0 else 0}) -%}
  {%- endfor -%}
  {{ return(types) }}
{%- endmacro %}
