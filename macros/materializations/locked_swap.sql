{#- Put a freshly built relation in place of the model's, under the model's lock (dbt_learn.lock_model), as ONE
    multi-statement query: Postgres runs it as one transaction even when the connection is not in one (after a
    node's first COMMIT, dbt-postgres sends no BEGIN), so the lock is held from its first statement to its last.
    What exists is read from the catalog (a leftover of an interrupted run, the kind of the current relation),
    never from dbt's relation cache, which another dbt process running the same model makes stale; drops and
    renames use IF EXISTS, so what another run did meanwhile cannot fail them. `create_sql` builds
    `intermediate_relation`, a relation of kind `new_kind` ('view' or 'table'). -#}
{% macro locked_swap(target_relation, intermediate_relation, backup_relation, create_sql, new_kind) -%}
  {%- set kinds = {} -%}
  {%- for row in dbt_learn.fetch_rows(
      "select c.relname::text, case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
       else 'table' end
       from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
       where n.nspname = %s and c.relname in (%s, %s, %s) and c.relkind in ('r', 'p', 'v', 'm', 'f')",
      [target_relation.schema, target_relation.identifier, intermediate_relation.identifier,
       backup_relation.identifier]) -%}
    {%- do kinds.update({row[0]: row[1]}) -%}
  {%- endfor -%}
  {%- set current_kind = kinds.get(target_relation.identifier, new_kind) -%}
  {% call statement('main') -%}
    select dbt_learn.lock_model({{ dbt_learn.sql_string_literal(target_relation.schema) }},
                                {{ dbt_learn.sql_string_literal(target_relation.identifier) }});
    drop {{ kinds.get(intermediate_relation.identifier, new_kind) }} if exists {{ intermediate_relation }} cascade;
    drop {{ kinds.get(backup_relation.identifier, new_kind) }} if exists {{ backup_relation }} cascade;
    {{ create_sql }};
    alter {{ current_kind }} if exists {{ target_relation }}
        rename to {{ dbt_learn.quote_identifier(backup_relation.identifier) }};
    alter {{ new_kind }} {{ intermediate_relation }}
        rename to {{ dbt_learn.quote_identifier(target_relation.identifier) }};
    drop {{ current_kind }} if exists {{ backup_relation }} cascade
  {%- endcall %}
  {%- for relation in [intermediate_relation, backup_relation, target_relation] -%}
    {%- do adapter.cache_dropped(relation) -%}  {#- dbt's materialization runner adds the target back -#}
  {%- endfor -%}
{%- endmacro %}
