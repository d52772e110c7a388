{#- A signed 64-bit hash of a row's values, seeded, for meta.sample and meta.partial_fit: Postgres' own extended hash
    functions chained through their seed argument, so the hash depends only on the values (not on the order rows are
    read in).
    `values` is a list of (kind, expression) with kind 'float' (a float8 expression; NULL hashes as NaN) or 'text'
    (any expression, hashed as text; NULL hashes as '' with the lowest bit flipped). `seed` is an integer. -#}
{% macro row_hash_sql(values, seed) -%}
  {{ return(adapter.dispatch('row_hash_sql', 'dbt_learn')(values, seed)) }}
{%- endmacro %}

{% macro default__row_hash_sql(values, seed) -%}
  {%- if seed is not integer or seed < -9223372036854775808 or seed > 9223372036854775807 -%}
    {{ exceptions.raise_compiler_error("dbt_learn: meta.sample.seed (or meta.partial_fit.seed) must be a 64-bit "
                                       ~ "integer, got " ~ seed) }}
  {%- endif -%}
  {%- set state = {'hash': '(' ~ seed ~ ')::int8'} -%}
  {%- for kind, expression in values -%}
    {%- if kind == 'float' -%}
      {%- do state.update({'hash': "hashfloat8extended(coalesce(" ~ expression ~ ", 'NaN'::float8), "
                                   ~ state.hash ~ ")"}) -%}
    {%- else -%}
      {%- do state.update({'hash': "(hashtextextended(coalesce((" ~ expression ~ ")::text, ''), " ~ state.hash
                                   ~ ") # ((" ~ expression ~ ") is null)::int::int8)"}) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(state.hash) }}
{%- endmacro %}

{% macro postgres__row_hash_sql(values, seed) -%}
  {{ return(dbt_learn.default__row_hash_sql(values, seed)) }}
{%- endmacro %}
