{#- Where a retrain_on monitor lives: {'relation': it, or none when it does not exist yet; 'name': schema.identifier
    looked up}. The monitor is named, not ref()'d: it reads scores that read the model, so a ref would be a cycle.
    Resolved, in order: rule.schema; a model, seed or snapshot of that name in the project's graph (so custom schemas
    and aliases work); the model's own schema. -#}
{% macro monitor_relation(model, relation, rule) -%}
  {%- set found = {'database': relation.database, 'schema': rule.schema or relation.schema,
                   'identifier': rule.monitor} -%}
  {%- if not rule.schema -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'in', ['model', 'seed', 'snapshot'])
                    | selectattr('name', 'equalto', rule.monitor) | list -%}
    {%- set own = nodes | selectattr('package_name', 'equalto', model.package_name) | list -%}
    {%- if own or nodes -%}
      {%- set node = (own or nodes)[0] -%}
      {%- do found.update({'database': node.database, 'schema': node.schema,
                           'identifier': node.alias or node.name}) -%}
    {%- endif -%}
  {%- endif -%}
  {{ return({'relation': adapter.get_relation(database=found.database, schema=found.schema,
                                              identifier=found.identifier),
             'name': found.schema ~ '.' ~ found.identifier}) }}
{%- endmacro %}
