{#- The work of the python_table and python_incremental materializations. dbt_learn.python_frame runs the model's
    code with this role's privileges and stages its DataFrame; this role's own CREATE TABLE AS (or INSERT) then reads
    it from dbt_learn.python_frame_rows, so the table is created by, owned by and readable as this role, in the
    model's schema, with Postgres checking CREATE there. Any failure happens before the swap: the previous table
    stays. The swap is one multi-statement query (one transaction) under the model's lock (dbt_learn.lock_model),
    decided from the catalog like ml_train's, so concurrent runs of one model neither fail nor leave
    __dbt_tmp/__dbt_backup relations. -#}
{% macro python_frame_model(model, code, incremental) -%}
  {{ return(adapter.dispatch('python_frame_model', 'dbt_learn')(model, code, incremental)) }}
{%- endmacro %}

{% macro default__python_frame_model(model, code, incremental) -%}
  {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': python_table models run inside "
                                     ~ "PostgreSQL with PL/Python; use the adapter's own Python support elsewhere.") }}
{%- endmacro %}

{% macro postgres__python_frame_model(model, code, incremental) -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {%- set existing_relation = load_cached_relation(this) -%}
  {%- set append = incremental and existing_relation is not none and existing_relation.is_table
                   and not should_full_refresh() -%}
  {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
  {%- set backup_relation = make_backup_relation(target_relation, 'table') -%}
  {%- set grant_config = config.get('grants') -%}
  {%- if incremental and config.get('unique_key') -%}
    {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': python_incremental appends the rows "
        ~ "model() returns and does not merge on unique_key; remove unique_key and return only new rows (compare "
        ~ "with session.table(dbt.this)).") }}
  {%- endif -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {% do dbt_learn.check_runtime() %}
  {%- do dbt_learn.require_python_models(model, 'dbt_learn.python_frame(text, text, text, text, jsonb)',
                                         'write the model in SQL') -%}
  {%- set frame = dbt_learn.call_runtime(
      "select dbt_learn.python_frame(%s, %s, %s, %s, %s::jsonb)::text",
      [this.schema, this.identifier, code, model.original_file_path, tojson({'is_incremental': append})]) -%}
  {#- The column list comes back quoted by the runtime (quote_ident) with types from its fixed mapping. -#}
  {%- set rows_sql = "select * from dbt_learn.python_frame_rows(" ~ (frame.token | int) ~ ") as frame("
                     ~ frame.column_definitions ~ ")" -%}

  {%- if append -%}
    {%- set existing_columns = adapter.get_columns_in_relation(target_relation) | map(attribute='name') | list -%}
    {%- set new_columns = frame.columns | map(attribute='name') | reject('in', existing_columns) | list -%}
    {%- if new_columns -%}
      {{ exceptions.raise_compiler_error("dbt_learn: model '" ~ model.name ~ "': model() returned column(s) "
          ~ new_columns | join(', ') ~ " that the existing table " ~ target_relation ~ " does not have; return only "
          ~ "its columns (" ~ existing_columns | join(', ') ~ ") or rebuild it with --full-refresh.") }}
    {%- endif -%}
    {% call statement('main') -%}
      insert into {{ target_relation }} ({{ frame.column_names }}) {{ rows_sql }}
    {%- endcall %}
  {%- else -%}
    {%- set create_sql -%}
      {{ get_create_table_as_sql(False, intermediate_relation, rows_sql) }}
      {%- for index in config.get('indexes', default=[]) %};
      {{ get_create_index_sql(intermediate_relation, index) }}
      {%- endfor %}
    {%- endset -%}
    {% do dbt_learn.locked_swap(target_relation, intermediate_relation, backup_relation, create_sql, 'table') %}
  {%- endif -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation,
                                                                                full_refresh_mode=not append)) %}
  {% do persist_docs(target_relation, model) %}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
  {{ log("dbt_learn: " ~ model.name ~ ": " ~ ("appended " if append else "built ") ~ frame.rows ~ " row(s), "
         ~ frame.columns | length ~ " column(s)", info=False) }}
  {{ return({'relations': [target_relation]}) }}
{%- endmacro %}
