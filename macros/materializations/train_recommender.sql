{#- Train a meta.task 'recommendation' ml_train model: check the user, item and rating columns against the training
    view, then send every interaction to dbt_learn.train_recommender in ONE aggregate - users and items as text in
    the wire form of text_bytes_sql, ratings as float8 (NULL as NaN, which the runtime refuses by name) - so the three
    columns stay aligned row by row. Returns the runtime's JSON, like train_sql_model. -#}
{% macro train_recommender(model, options, sql, retrain=none) -%}
  {{ return(adapter.dispatch('train_recommender', 'dbt_learn')(model, options, sql, retrain)) }}
{%- endmacro %}

{% macro postgres__train_recommender(model, options, sql, retrain=none) -%}
  {%- set column_types = dbt_learn.query_column_types(sql) -%}
  {%- set context = "dbt_learn: model '" ~ model.name ~ "': " -%}
  {%- set listing = "; the training view's columns are: " ~ column_types.keys() | join(', ') ~ "." -%}
  {%- for option in ['user_column', 'item_column'] -%}
    {%- if not options[option] -%}
      {{ exceptions.raise_compiler_error(context ~ "meta.task 'recommendation' needs meta.user_column and "
          ~ "meta.item_column (the columns naming each interaction's user and item); meta." ~ option
          ~ " is not set" ~ listing) }}
    {%- elif options[option] not in column_types -%}
      {{ exceptions.raise_compiler_error(context ~ "meta." ~ option ~ " '" ~ options[option] ~ "' is not a column "
          ~ "of the training view" ~ listing) }}
    {%- endif -%}
  {%- endfor -%}
  {%- if options.user_column == options.item_column -%}
    {{ exceptions.raise_compiler_error(context ~ "meta.user_column and meta.item_column are both '"
        ~ options.user_column ~ "'; name two different columns.") }}
  {%- endif -%}
  {%- set rating = options.rating_column -%}
  {%- if rating and rating not in column_types -%}
    {{ exceptions.raise_compiler_error(context ~ "meta.rating_column '" ~ rating ~ "' is not a column of the "
        ~ "training view" ~ listing ~ " Leave it out for implicit feedback (every interaction counts 1).") }}
  {%- endif -%}
  {%- if rating and (rating in [options.user_column, options.item_column]
                     or not dbt_learn.is_numeric_type(column_types[rating])) -%}
    {{ exceptions.raise_compiler_error(context ~ "meta.rating_column '" ~ rating ~ "' has type "
        ~ column_types[rating] ~ "; ratings must be numbers (cast it in the training view).") }}
  {%- endif -%}
  {%- if options.top_k is not number or options.top_k is sameas true or options.top_k is sameas false
         or options.top_k < 1 or options.top_k != options.top_k | int -%}
    {{ exceptions.raise_compiler_error(context ~ "meta.top_k must be a positive integer (the k of the ranking "
        ~ "metrics and ml_recommend's default number of items per user); got " ~ options.top_k ~ ".") }}
  {%- endif -%}
  {%- if options.target -%}
    {{ exceptions.raise_compiler_error(context ~ "meta.target does not apply to a recommender; name the rating "
        ~ "column in meta.rating_column (or leave it out for implicit feedback) and remove meta.target.") }}
  {%- endif -%}

  {%- set features = [
      {'name': options.user_column, 'type': column_types[options.user_column], 'kind': 'categorical', 'role': 'user'},
      {'name': options.item_column, 'type': column_types[options.item_column], 'kind': 'categorical', 'role': 'item'},
  ] -%}
  {%- if rating -%}
    {%- do features.append({'name': rating, 'type': column_types[rating], 'kind': 'numeric', 'role': 'rating'}) -%}
  {%- endif -%}
  {%- set spec = dbt_learn.training_spec(model, options, retrain) -%}
  {%- do spec.update({'task': 'recommendation', 'features': features, 'target': none,
                      'algorithm': options.algorithm or 'truncated_svd'}) -%}
  {%- set quoted = {} -%}
  {%- for name in ['user_column', 'item_column'] + (['rating_column'] if rating else []) -%}
    {%- do quoted.update({name: 't.' ~ dbt_learn.quote_identifier(options[name])}) -%}
  {%- endfor -%}
  {%- set body -%}
from (
    select
        count(*) as n_rows,
        string_agg({{ dbt_learn.text_bytes_sql(quoted.user_column) }}, ''::bytea) as users,
        string_agg({{ dbt_learn.text_bytes_sql(quoted.item_column) }}, ''::bytea) as items,
        {% if rating -%}
        string_agg(coalesce(float8send(({{ quoted.rating_column }})::float8), '\x7ff8000000000000'::bytea), ''::bytea)
        {%- else -%} null::bytea {%- endif %} as ratings
    from (
{{ sql }}
    ) as t
) as batch
  {%- endset -%}
  {#- Bind parameters are psycopg placeholders: every other % (user SQL, column names) is doubled, once. -#}
  {%- set statement = "select dbt_learn.train_recommender(%s, %s, %s::jsonb, batch.n_rows, batch.users, "
                      ~ "batch.items, batch.ratings)::text\n" ~ body | replace('%', '%%') -%}
  {{ return(dbt_learn.call_runtime(statement, [this.schema, this.identifier, tojson(spec)])) }}
{%- endmacro %}
