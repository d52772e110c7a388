{#- Predictions of a trained ml_train model for every row of a relation, as a subquery to select from:

      select * from {{ dbt_learn.ml_score(ref('churn_model'), ref('customers_today'), id_columns=['customer_id']) }}

    Columns: the id columns, `changed_column` when given, `prediction` (typed like the training target), one
    `probability_<class>` column per class for classifiers with predict_proba, `model_version` and `scored_at` (the
    run's as-of moment). Features are matched by name; extra columns are ignored. The version is read from the
    registry when the model compiles (the deployed one, unless `version` pins one), so a table of scores is
    refreshed, with the current version, on every dbt run.

    In an incremental model (a prediction log) the scores accumulate instead: see unscored_rows_sql. `explain=k`
    adds `explanation`, each row's k largest feature contributions (linear and tree models). An id column or
    changed_column named like one of the added columns (or starting with __dbt_learn_) is refused at compile time:
    rename it in the scored relation. -#}
{% macro ml_score(model, relation, id_columns=none, version=none, changed_column=none, explain=none) -%}
  {{ return(adapter.dispatch('ml_score', 'dbt_learn')(model, relation, id_columns, version, changed_column,
                                                      explain)) }}
{%- endmacro %}

{% macro postgres__ml_score(model, relation, id_columns, version, changed_column, explain=none) -%}
  {%- if explain is not none and (explain is not number or explain is boolean or explain < 1) -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): explain must be a positive "
        ~ "number of features per row, e.g. explain=3; got " ~ explain) }}
  {%- endif -%}
  {%- if not execute -%}
    {{ return('(select 1) as __dbt_learn_scores') }}
  {%- endif -%}
  {%- do dbt_learn.check_runtime() -%}
  {%- set trained = dbt_learn.trained_version(model, version) -%}
  {%- set ids = id_columns if id_columns is not none else trained.id_columns -%}
  {%- set ids = [ids] if ids is string else ids -%}
  {%- set columns = adapter.get_columns_in_relation(relation) -%}
  {%- set available = columns | map(attribute='name') | list -%}
  {%- set missing = [] -%}
  {%- for feature in trained.features if feature.name not in available -%}
    {%- do missing.append(feature.name) -%}
  {%- endfor -%}
  {%- if missing -%}
    {{ exceptions.raise_compiler_error("dbt_learn: scoring " ~ relation ~ " with model '" ~ model.identifier ~ "' v"
        ~ trained.version ~ ": feature column(s) " ~ missing | join(', ') ~ " are missing from the scoring relation. "
        ~ "It must have every feature the model was trained on (by name): " ~ trained.features
        | map(attribute='name') | join(', ') ~ ". Add them to the scoring model or retrain without them.") }}
  {%- endif -%}
  {#- A text column where the model has a number would fail the scoring query's cast on the first non-number,
      with Postgres's message naming neither the model nor the column. -#}
  {%- set numeric = trained.features | rejectattr('kind', 'equalto', 'categorical') | map(attribute='name') | list -%}
  {%- for column in columns if column.name in numeric and column.is_string() -%}
    {{ exceptions.raise_compiler_error("dbt_learn: scoring " ~ relation ~ " with model '" ~ model.identifier ~ "' v"
        ~ trained.version ~ ": feature column '" ~ column.name ~ "' is a number in the model but has type "
        ~ column.data_type ~ " (text) in the scoring relation. Cast it in the scoring model, turning what is not a "
        ~ "number into NULL (e.g. case when " ~ column.name ~ " ~ '^-?[0-9.]+$' then " ~ column.name
        ~ "::float8 end), or retrain with it as a text feature.") }}
  {%- endfor -%}
  {%- for column in ids if column not in available -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): id column '" ~ column
        ~ "' is not a column of " ~ relation ~ " (scored with model '" ~ model.identifier ~ "'); its columns are: "
        ~ available | join(', ') ~ ". Pass id_columns that the scored relation has.") }}
  {%- endfor -%}
  {%- set carried = ids -%}
  {%- if changed_column is not none -%}
    {%- if changed_column in ids -%}
      {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): changed_column '"
          ~ changed_column ~ "' is also an id column, so a changed value already makes a new key. Leave it out of "
          ~ "id_columns or drop changed_column.") }}
    {%- endif -%}
    {%- if changed_column not in available -%}
      {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): changed_column '"
          ~ changed_column ~ "' is not a column of " ~ relation ~ "; its columns are: " ~ available | join(', ')
          ~ ". Name the column of the scored relation that grows when a row changes (e.g. updated_at).") }}
    {%- endif -%}
    {#- carried next to the ids, so the log remembers which value of the row it scored -#}
    {%- set carried = ids + [changed_column] -%}
  {%- endif -%}
  {%- set context = "dbt_learn: ml_score(" ~ this.identifier ~ "): model '" ~ model.identifier ~ "': " -%}
  {%- set listed = [] -%}
  {%- for column in ids -%}
    {%- if column in listed -%}
      {{ exceptions.raise_compiler_error(context ~ "id column '" ~ column ~ "' is listed twice in id_columns, so the "
          ~ "scores would have it twice; list it once.") }}
    {%- endif -%}
    {%- do listed.append(column) -%}
  {%- endfor -%}
  {%- set outputs = dbt_learn.score_output_column_names(trained, explain) -%}
  {%- for column in carried if column in outputs or column.startswith('__dbt_learn_') -%}
    {%- set role = 'changed_column' if column == changed_column else 'id column' -%}
    {{ exceptions.raise_compiler_error(context ~ role ~ " '" ~ column ~ "' of " ~ relation ~ " has the name of a "
        ~ "column ml_score adds (" ~ outputs | join(', ') ~ ", or any name starting with __dbt_learn_), so the "
        ~ "scores would have it twice; rename it in the scored relation (e.g. select " ~ column ~ " as source_"
        ~ column | trim('_') ~ ") and pass the new name as " ~ ('changed_column' if column == changed_column
        else 'id_columns (or meta.id_columns of the model)') ~ ".") }}
  {%- endfor -%}
  {%- set rows = dbt_learn.unscored_rows_sql(relation, ids, trained.version, changed_column) -%}
  {{ return(dbt_learn.scoring_sql(model, rows, carried, trained, explain)) }}
{%- endmacro %}
