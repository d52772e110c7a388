{#- Internal to ml_score. The rows of `relation` that the calling prediction log (an incremental model, {{ this }})
    still has to score with `version`: when is_incremental(), a subquery of the relation without the rows that the
    log already holds for the same id values and version (and, with changed_column, an equal or newer value of it);
    otherwise the relation itself.

    The ids match null-safely as one-element arrays: array equality treats two NULLs as equal and, unlike
    IS NOT DISTINCT FROM (a nested loop over log x relation), is hashable and sortable, so Postgres plans one hash or
    merge anti join. The subquery is pulled up into scoring_sql's aggregate: the relation is still read once, the
    log once. -#}
{% macro unscored_rows_sql(relation, ids, version, changed_column=none) -%}
  {%- set materialized = config.get('materialized') if config is defined else none -%}
  {%- if materialized != 'incremental' -%}
    {{ return(relation) }}
  {%- endif -%}
  {%- if not ids -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): an incremental prediction log "
        ~ "needs id columns to know which rows of " ~ relation ~ " it has scored, and there are none. Pass "
        ~ "id_columns=[...] to ml_score (or set meta.id_columns on the ml_train model).") }}
  {%- endif -%}
  {%- if not is_incremental() -%}
    {{ return(relation) }}
  {%- endif -%}
  {%- set matched = ids + ([changed_column] if changed_column is not none else []) -%}
  {%- set scanned_types = dbt_learn.column_base_types(relation) -%}
  {%- set logged_types = dbt_learn.column_base_types(this) -%}
  {%- for column in matched + ['model_version'] if column not in logged_types -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): "
        ~ ("changed_column" if column == changed_column else "column") ~ " '" ~ column ~ "' is not a column of the "
        ~ "prediction log " ~ this ~ "; its columns are: " ~ logged_types.keys() | join(', ') ~ ". The log must keep "
        ~ "ml_score's id columns, changed_column and model_version. If ml_score's arguments changed since the log "
        ~ "was created, add the column to it (alter table ... add column) or drop the log to rebuild it.") }}
  {%- endfor -%}
  {%- for column in matched if scanned_types[column] != logged_types[column] -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): column '" ~ column ~ "' is "
        ~ scanned_types[column] ~ " in " ~ relation ~ " but " ~ logged_types[column] ~ " in the prediction log "
        ~ this ~ ", so logged rows cannot be matched. Cast it back in the scored relation or alter the log's "
        ~ "column to the new type.") }}
  {%- endfor -%}
  {%- set q = dbt_learn.quote_identifier -%}
(
    select * from {{ relation }} as unscored
    where not exists (
        select from {{ this }} as logged
        where logged.model_version = {{ version | int }}
        {%- for column in ids %}
          and array[logged.{{ q(column) }}] = array[unscored.{{ q(column) }}]
        {%- endfor %}
        {%- if changed_column is not none %}
          {#- NULL is older than every value: scored once per key, rescored once a value appears #}
          and coalesce(logged.{{ q(changed_column) }} >= unscored.{{ q(changed_column) }},
                       unscored.{{ q(changed_column) }} is null)
        {%- endif %}
    )
)
{%- endmacro %}

{#- Internal: {column name: data type without its length/precision modifier} of a relation. -#}
{% macro column_base_types(relation) -%}
  {%- set types = {} -%}
  {%- for column in adapter.get_columns_in_relation(relation) -%}
    {%- do types.update({column.name: modules.re.sub('\\(.*\\)$', '', column.data_type | lower) | trim}) -%}
  {%- endfor -%}
  {{ return(types) }}
{%- endmacro %}
