{#- An ordinary dbt Python model, run inside Postgres: model(dbt, session) gets DataFrames from dbt.ref() and
    dbt.source() and returns a pandas DataFrame, which becomes this table (built under a temporary name and swapped
    in, so a failure leaves the previous table as it was). Named python_table rather than overriding dbt's table:
    dbt 1.8+ does not let a package replace a builtin materialization unless the root project opts in. -#}
{% materialization python_table, adapter='postgres', supported_languages=['python'] %}
  {{ return(dbt_learn.python_frame_model(model, compiled_code, false)) }}
{% endmaterialization %}
