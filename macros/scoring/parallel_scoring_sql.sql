{#- The scoring batches of a table read with several cores, or none when ml_score should stream instead. A table of
    at least dbt_learn_parallel_scoring_min_mb (default 256) scored with two or more threads per model (the var
    dbt_learn_threads_per_model, or unset with one dbt thread) is split into block ranges of about
    dbt_learn_score_chunk_mb of heap, at least four per thread so the processes finish together. Each range is one
    UNION ALL branch that aggregates its rows and calls dbt_learn.score_rows; Postgres' Parallel Append runs whole
    branches in parallel workers (as many as max_parallel_workers_per_gather allows) and in the leader. The last
    range is open-ended, so rows added after the size was read are scored too. Returns a subquery with the columns
    of dbt_learn.read_scores (n_rows, the five output arrays, __dbt_learn_id_<i>). -#}
{% macro parallel_scoring_sql(model, relation, ids, id_types, trained, options) -%}
  {{ return(adapter.dispatch('parallel_scoring_sql', 'dbt_learn')(model, relation, ids, id_types, trained, options)) }}
{%- endmacro %}

{% macro default__parallel_scoring_sql(model, relation, ids, id_types, trained, options) -%}
  {{ return(none) }}
{%- endmacro %}

{% macro postgres__parallel_scoring_sql(model, relation, ids, id_types, trained, options) -%}
  {%- set threads = options.threads_per_model -%}
  {%- set min_mb = dbt_learn.get_config('dbt_learn_parallel_scoring_min_mb') -%}
  {%- if min_mb is not number or min_mb is boolean or min_mb < 0 -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): "
        ~ "dbt_learn_parallel_scoring_min_mb must be a number of megabytes, 0 or more (default 256); got " ~ min_mb) }}
  {%- endif -%}
  {%- set threads = threads if threads is number and threads is not boolean
                    else (2 if threads is none and options.dbt_threads == 1 else 1) -%}
  {%- if threads < 2 or relation is string or relation.identifier is not defined -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set heap = dbt_learn.fetch_rows(
      "select c.relkind in ('r', 'm') and a.amname = 'heap', pg_relation_size(c.oid) / current_setting('block_size')::int8, "
      ~ "current_setting('block_size')::int8 from pg_class c join pg_am a on a.oid = c.relam where c.oid = to_regclass(%s)",
      [relation | string]) -%}
  {%- if not heap or not heap[0][0] or heap[0][1] * heap[0][2] < min_mb * 1048576 or heap[0][1] == 0 -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set blocks, block_size = heap[0][1], heap[0][2] -%}
  {%- set chunk_blocks = [1, (options.chunk_mb * 1048576 / block_size) | int] | max -%}
  {%- set balanced = [1, (blocks / (4 * threads)) | round(0, 'ceil') | int] | max -%}
  {%- set step = [chunk_blocks, balanced] | min -%}
  {%- set branches = ((blocks + step - 1) // step) | int -%}
  {%- if branches > 1024 -%}
    {{ return(none) }}  {#- a plan that large costs more than it saves: stream instead -#}
  {%- endif -%}
  {%- set q = dbt_learn.quote_identifier -%}
  {%- set texts = [] -%}
  {%- for feature in trained.features if feature.kind == 'categorical' -%}
    {%- do texts.append("string_agg(" ~ dbt_learn.text_bytes_sql('r.' ~ q(feature.name)) ~ ", ''::bytea)") -%}
  {%- endfor -%}
  {%- set id_aggregates = [] -%}
  {%- set id_fields = [] -%}
  {%- for column in ids -%}
    {%- do id_aggregates.append('array_agg(r.' ~ q(column) ~ ') as __dbt_learn_id_' ~ loop.index) -%}
    {%- do id_fields.append('s.__dbt_learn_id_' ~ loop.index) -%}
  {%- endfor -%}
  {%- set call -%}
dbt_learn.score_rows({{ dbt_learn.sql_string_literal(model.schema) }}, {{ dbt_learn.sql_string_literal(model.identifier) }}, {{ trained.version | int }}, count(*), string_agg({{ dbt_learn.feature_bytes_sql(trained.features, 'r') }}, ''::bytea), array[{{ texts | join(', ') }}]::bytea[], {{ dbt_learn.sql_string_literal(tojson(options)) }}::jsonb) as scored
  {%- endset -%}
  {%- set parts = [] -%}
  {%- for branch in range(branches) -%}
    {%- set upper = "r.ctid < '(" ~ (branch + 1) * step ~ ",0)'" if not loop.last else "true" -%}
    {%- do parts.append("select (s.scored).*" ~ (", " if id_fields else "") ~ id_fields | join(', ') ~ " from (select "
                        ~ ([call] + id_aggregates) | join(', ') ~ " from " ~ relation ~ " as r where r.ctid >= '("
                        ~ branch * step ~ ",0)' and " ~ upper ~ ") as s") -%}
  {%- endfor -%}
  {{ return('(' ~ parts | join('\nunion all\n') ~ ')') }}
{%- endmacro %}
