{#- Internal to ml_label_predictions: checks every argument against the two relations at compile time and returns
    what the SQL needs (quoted names, time expressions, literals), so a mistake is a compile error that names the
    model, the relation and the column instead of a Postgres error halfway through a run. -#}
{% macro label_predictions_arguments(predictions, outcomes, key, outcome_column, outcome_time_column,
                                     decision_time_column, maturity, missing_outcome, missing_outcome_value, since,
                                     columns=none, recompute=none) -%}
  {%- set where = "dbt_learn: ml_label_predictions(" ~ (model.name if model is mapping and model.name else this) ~ "): " -%}
  {%- for name, relation in [('predictions', predictions), ('outcomes', outcomes)] -%}
    {%- if relation is string or relation is none or relation.identifier is not defined -%}
      {{ exceptions.raise_compiler_error(where ~ name ~ " must be a relation (ref() or source()), got '" ~ relation
          ~ "'. Wrap a query in a model and ref() it.") }}
    {%- endif -%}
  {%- endfor -%}

  {%- set keys = [key] if key is string else (key or []) | list -%}
  {%- if not keys or keys | reject('string') | list -%}
    {{ exceptions.raise_compiler_error(where ~ "key must be a column name or a non-empty list of column names, got "
        ~ key ~ ".") }}
  {%- endif -%}
  {%- set outputs = ['decided_at', 'model_version', 'prediction', 'prediction_events', 'outcome', 'outcome_at',
                     'label', 'label_status', 'is_matured', 'has_conflicting_outcomes'] -%}
  {%- for column in keys if column in outputs or column.startswith('probability_') -%}
    {{ exceptions.raise_compiler_error(where ~ "key column '" ~ column ~ "' has the name of an output column ("
        ~ outputs | join(', ') ~ ", probability_*). Rename it in the model that builds the log.") }}
  {%- endfor -%}

  {#- Columns each relation must have, with the argument that names them (for the error). -#}
  {%- set log_columns = adapter.get_columns_in_relation(predictions) -%}
  {%- set outcome_columns = adapter.get_columns_in_relation(outcomes) -%}
  {%- set log_names = log_columns | map(attribute='name') | list -%}
  {%- set outcome_names = outcome_columns | map(attribute='name') | list -%}
  {%- set required = [] -%}
  {%- for column in keys -%}
    {%- do required.append(('predictions', predictions, log_names, 'key column', column)) -%}
    {%- do required.append(('outcomes', outcomes, outcome_names, 'key column', column)) -%}
  {%- endfor -%}
  {%- do required.append(('predictions', predictions, log_names, 'decision_time_column', decision_time_column)) -%}
  {%- do required.append(('predictions', predictions, log_names, 'prediction log column', 'model_version')) -%}
  {%- do required.append(('predictions', predictions, log_names, 'prediction log column', 'prediction')) -%}
  {%- do required.append(('outcomes', outcomes, outcome_names, 'outcome_column', outcome_column)) -%}
  {%- do required.append(('outcomes', outcomes, outcome_names, 'outcome_time_column', outcome_time_column)) -%}
  {%- for argument, relation, names, what, column in required if column not in names -%}
    {{ exceptions.raise_compiler_error(where ~ what ~ " '" ~ column ~ "' is not a column of " ~ argument ~ " "
        ~ relation ~ "; its columns are: " ~ names | join(', ') ~ ".") }}
  {%- endfor -%}
  {#- Keys are compared with =: a number against a string would fail at run time, so say which column now. -#}
  {%- for column in keys -%}
    {%- set a = log_columns | selectattr('name', 'equalto', column) | first -%}
    {%- set b = outcome_columns | selectattr('name', 'equalto', column) | first -%}
    {%- if a.is_string() != b.is_string() or a.is_number() != b.is_number() -%}
      {{ exceptions.raise_compiler_error(where ~ "key column '" ~ column ~ "' is " ~ a.data_type ~ " in predictions "
          ~ predictions ~ " but " ~ b.data_type ~ " in outcomes " ~ outcomes ~ ". Cast one of them so they match.") }}
    {%- endif -%}
  {%- endfor -%}

  {%- if missing_outcome not in ('unknown', 'negative') -%}
    {{ exceptions.raise_compiler_error(where ~ "missing_outcome must be 'unknown' or 'negative', got '"
        ~ missing_outcome ~ "'.") }}
  {%- endif -%}
  {%- set maturity_sql = none -%}
  {%- if maturity is not none -%}
    {%- if maturity is not string or not modules.re.match('^[0-9]+ (second|minute|hour|day|week|month)s?$', maturity) -%}
      {{ exceptions.raise_compiler_error(where ~ "maturity '" ~ maturity ~ "' is not an interval like '30 minutes', "
          ~ "'6 hours', '7 days' (a whole number and one of second, minute, hour, day, week, month).") }}
    {%- endif -%}
    {%- set maturity_sql = dbt_learn.sql_string_literal(maturity) ~ '::interval' -%}
  {%- endif -%}
  {%- set negative_sql = none -%}
  {%- if missing_outcome == 'negative' -%}
    {%- if maturity is none -%}
      {{ exceptions.raise_compiler_error(where ~ "missing_outcome='negative' needs maturity (e.g. maturity='7 days'): "
          ~ "without it every prediction without an outcome would count as negative the moment it is made.") }}
    {%- endif -%}
    {%- if missing_outcome_value is none -%}
      {{ exceptions.raise_compiler_error(where ~ "missing_outcome='negative' needs missing_outcome_value, the value "
          ~ "of " ~ outcome_column ~ " a missing outcome stands for (e.g. false or 0).") }}
    {%- endif -%}
    {%- set negative_sql = dbt_learn.label_value_literal(outcomes, outcome_column, missing_outcome_value, where) -%}
  {%- elif missing_outcome_value is not none -%}
    {{ exceptions.raise_compiler_error(where ~ "missing_outcome_value is only used with missing_outcome='negative'; "
        ~ "with 'unknown' a missing outcome has no label. Remove it or set missing_outcome='negative'.") }}
  {%- endif -%}

  {%- set carried = [columns] if columns is string else (columns or []) | list -%}
  {%- for column in carried -%}
    {%- if column is not string or column not in log_names -%}
      {{ exceptions.raise_compiler_error(where ~ "columns: '" ~ column ~ "' is not a column of predictions "
          ~ predictions ~ "; its columns are: " ~ log_names | join(', ') ~ ".") }}
    {%- endif -%}
    {%- if column in outputs or column in keys or column.startswith('probability_') -%}
      {{ exceptions.raise_compiler_error(where ~ "columns: '" ~ column ~ "' is already an output column ("
          ~ outputs | join(', ') ~ ", the keys, probability_*); list only other columns of the log.") }}
    {%- endif -%}
  {%- endfor -%}

  {%- set since_sql = none -%}
  {%- if recompute is not none -%}
    {%- if since is not none -%}
      {{ exceptions.raise_compiler_error(where ~ "give since or recompute, not both: recompute sets since to "
          ~ "as_of - recompute on incremental runs.") }}
    {%- endif -%}
    {%- if recompute is not string or not modules.re.match('^[0-9]+ (second|minute|hour|day|week)s?$', recompute) -%}
      {{ exceptions.raise_compiler_error(where ~ "recompute '" ~ recompute ~ "' is not an interval like '2 days' "
          ~ "(a whole number and one of second, minute, hour, day, week).") }}
    {%- endif -%}
    {%- if is_incremental() -%}
      {%- set since_sql = '(' ~ dbt_learn.as_of_sql() ~ ' - ' ~ dbt_learn.sql_string_literal(recompute)
                          ~ '::interval)' -%}
    {%- endif -%}
  {%- elif config.get('materialized') == 'incremental' -%}
    {{ exceptions.raise_compiler_error(where ~ "an incremental model needs recompute, how far back each run "
        ~ "re-judges keys (config unique_key = the key, incremental_strategy='delete+insert'): at least the "
        ~ "maturity plus the longest delay of an outcome you want counted, e.g. recompute='3 days'.") }}
  {%- endif -%}
  {%- if since is not none -%}
    {%- set text = since | string | trim -%}
    {%- set match = modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)?)? ?'
                                     ~ '(Z|UTC|[+-][0-9]{2}(:?[0-9]{2})?)?$', text) -%}
    {%- if not match -%}
      {{ exceptions.raise_compiler_error(where ~ "since '" ~ since ~ "' is not a timestamp like "
          ~ "'2024-03-01 12:00:00+00' (no offset: read as UTC).") }}
    {%- endif -%}
    {#- like naive time columns, a timestamp without an offset is read as UTC, whatever the session's time zone -#}
    {%- set since_sql = '(' ~ dbt_learn.sql_string_literal(text) ~ ('::timestamptz)' if match.group(4)
                        else "::timestamp at time zone 'UTC')") -%}
  {%- endif -%}

  {%- set quoted_keys = [] -%}
  {%- for column in keys -%}{%- do quoted_keys.append(dbt_learn.quote_identifier(column)) -%}{%- endfor -%}
  {%- set probabilities = [] -%}
  {%- for column in log_names if column.startswith('probability_') -%}
    {%- do probabilities.append(dbt_learn.quote_identifier(column)) -%}
  {%- endfor -%}
  {#- scored_at breaks ties between log rows with the same decision time, when it is a different column -#}
  {%- set scored = 'scored_at' if 'scored_at' in log_names and decision_time_column != 'scored_at' else none -%}
  {%- set quoted_columns = [] -%}
  {%- for column in carried -%}{%- do quoted_columns.append(dbt_learn.quote_identifier(column)) -%}{%- endfor -%}
  {{ return({
      'keys': quoted_keys, 'probabilities': probabilities, 'columns': quoted_columns,
      'scored_at': dbt_learn.quote_identifier(scored) if scored else none,
      'outcome': dbt_learn.quote_identifier(outcome_column),
      'maturity': maturity_sql, 'negative': negative_sql, 'since': since_sql,
  }) }}
{%- endmacro %}

{#- Internal to ml_label_predictions: missing_outcome_value as a literal cast to the outcome column's exact type
    (format_type, so enums and domains work too). Booleans and numbers are checked here, so a value the column
    cannot hold is a compile error rather than an "invalid input syntax" at run time. -#}
{% macro label_value_literal(outcomes, outcome_column, value, where) -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select format_type(atttypid, atttypmod) from pg_attribute
       where attrelid = %s::regclass and attname = %s and attnum > 0 and not attisdropped",
      [outcomes.include(database=False) | string, outcome_column]) -%}
  {%- set type = rows[0][0] -%}
  {%- set text = ('true' if value else 'false') if value is sameas true or value is sameas false else value | string -%}
  {%- set patterns = {
      'boolean': '^(true|false|t|f|yes|no|y|n|on|off|1|0)$',
      'smallint': '^[-+]?[0-9]+$', 'integer': '^[-+]?[0-9]+$', 'bigint': '^[-+]?[0-9]+$',
      'real': '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$',
      'double precision': '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$',
      'numeric': '^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$',
  } -%}
  {%- set pattern = patterns.get(type.split('(')[0]) -%}
  {%- if pattern and not modules.re.match(pattern, text | trim | lower) -%}
    {{ exceptions.raise_compiler_error(where ~ "missing_outcome_value '" ~ value ~ "' is not a " ~ type
        ~ " value, the type of outcome_column '" ~ outcome_column ~ "' in outcomes " ~ outcomes ~ ".") }}
  {%- endif -%}
  {{ return('cast(' ~ dbt_learn.sql_string_literal(text) ~ ' as ' ~ type ~ ')') }}
{%- endmacro %}
