{#- The incremental form of python_table: the first run (or --full-refresh) builds the table; later runs append the
    DataFrame model() returns, with dbt.is_incremental true so the code can return only the new rows (reading the
    existing table with session.table(dbt.this)). -#}
{% materialization python_incremental, adapter='postgres', supported_languages=['python'] %}
  {{ return(dbt_learn.python_frame_model(model, compiled_code, true)) }}
{% endmaterialization %}
