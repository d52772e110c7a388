{#- `prediction` typed like the training target, and for classifiers with predict_proba one probability column per
    class; a clusterer's segment number as `prediction`; an outlier detector's `is_anomaly` and `anomaly_score`
    (higher is more anomalous). -#}
{% macro prediction_columns_sql(trained) -%}
  {%- if trained.task == 'regression' -%}
    scored.__dbt_learn_prediction as prediction,
  {%- elif trained.task == 'anomaly_detection' -%}
    scored.__dbt_learn_class_index = 1 as is_anomaly,
    scored.__dbt_learn_prediction as anomaly_score,
  {%- elif trained.task == 'classification' -%}
    {%- set type = trained.target_type or 'text' -%}
    {%- if not modules.re.match('^[a-z][a-z0-9 _]*(\\([0-9, ]+\\))?$', type) -%}
      {{ exceptions.raise_compiler_error("dbt_learn: unexpected target type in the registry: " ~ type) }}
    {%- endif -%}
    {%- set labels = [] -%}
    {%- for label in trained.classes -%}
      {%- do labels.append(dbt_learn.sql_string_literal(label)) -%}
    {%- endfor %}
    (array[{{ labels | join(', ') }}]::{{ type }}[])[scored.__dbt_learn_class_index + 1] as prediction,
    {%- for name in (dbt_learn.probability_column_names(trained.classes) if trained.predicts_probabilities else []) %}
    scored.__dbt_learn_probability_{{ loop.index }} as {{ dbt_learn.quote_identifier(name) }},
    {%- endfor -%}
  {%- else -%}
    scored.__dbt_learn_class_index as prediction,
  {%- endif -%}
{%- endmacro %}

{#- probability_<class>: the class label lower-cased with other characters as _, or its position if labels clash. -#}
{% macro probability_column_names(classes) -%}
  {%- set names = [] -%}
  {%- for label in classes -%}
    {%- do names.append('probability_' ~ modules.re.sub('[^a-z0-9]+', '_', label | lower) | trim('_')) -%}
  {%- endfor -%}
  {%- if names | unique | list | length != names | length -%}
    {%- set names = [] -%}
    {%- for label in classes -%}
      {%- do names.append('probability_' ~ loop.index0) -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(names) }}
{%- endmacro %}

{#- The columns ml_score adds after the carried id columns (and changed_column), in prediction_columns_sql's order:
    a carried column of one of these names, or of the prefix __dbt_learn_ that the scoring query's own columns use,
    would appear twice, so ml_score refuses it at compile time. -#}
{% macro score_output_column_names(trained, explain=none) -%}
  {%- set names = [] -%}
  {%- if trained.task == 'anomaly_detection' -%}
    {%- do names.append('is_anomaly') -%}
    {%- do names.append('anomaly_score') -%}
  {%- else -%}
    {%- do names.append('prediction') -%}
  {%- endif -%}
  {%- if trained.task == 'classification' and trained.predicts_probabilities -%}
    {%- for name in dbt_learn.probability_column_names(trained.classes) -%}
      {%- do names.append(name) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- if explain -%}
    {%- do names.append('explanation') -%}
  {%- endif -%}
  {%- do names.append('model_version') -%}
  {%- do names.append('scored_at') -%}
  {{ return(names) }}
{%- endmacro %}
