{#- Top-k recommendations of a meta.task 'recommendation' ml_train model for the distinct users of a relation, as a
    subquery to select from:

      select * from {{ dbt_learn.ml_recommend(ref('product_recommender'), ref('active_customers'), k=5) }}

    Columns: the user (named like the relation's user column, typed like the training user column), the item (named
    and typed like the training item column), `rank` (1 = best), `score`, `model_version` and `scored_at` (the run's
    as-of moment). Items the user interacted with in the training data are left out (exclude_seen=false keeps
    them). A user the model has never seen (cold start) gets the most popular items, scored by the share of
    training users who had each (cold_start='none': no rows for them). NULL users are skipped; users are matched by
    their text form. The version is read from the registry when the model compiles, as for ml_score. A user column, or
    the model's item column, named like one of the added columns is refused at compile time. -#}
{% macro ml_recommend(model, relation, user_column=none, k=none, version=none, exclude_seen=true,
                      cold_start='popular') -%}
  {{ return(adapter.dispatch('ml_recommend', 'dbt_learn')(model, relation, user_column, k, version, exclude_seen,
                                                          cold_start)) }}
{%- endmacro %}

{% macro postgres__ml_recommend(model, relation, user_column, k, version, exclude_seen, cold_start) -%}
  {%- if not execute -%}
    {{ return('(select 1) as __dbt_learn_recommendations') }}
  {%- endif -%}
  {%- do dbt_learn.check_runtime() -%}
  {%- set trained = dbt_learn.trained_version(model, version) -%}
  {%- set context = "dbt_learn: ml_recommend(" ~ this.identifier ~ ") with model '" ~ model.identifier ~ "' v"
                    ~ trained.version ~ ": " -%}
  {%- if trained.task != 'recommendation' -%}
    {{ exceptions.raise_compiler_error(context ~ "the model is a " ~ trained.task ~ " model, not a recommender "
        ~ "(meta.task 'recommendation'); score it with dbt_learn.ml_score.") }}
  {%- endif -%}
  {%- set user = trained.features | selectattr('role', 'equalto', 'user') | first -%}
  {%- set item = trained.features | selectattr('role', 'equalto', 'item') | first -%}
  {%- set column = user_column or user.name -%}
  {%- set available = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
  {%- if column not in available -%}
    {{ exceptions.raise_compiler_error(context ~ "user column '" ~ column ~ "' is not a column of " ~ relation
        ~ "; its columns are: " ~ available | join(', ') ~ ". Pass user_column= to name the column holding the "
        ~ "users (the model was trained on '" ~ user.name ~ "').") }}
  {%- endif -%}
  {#- the columns added beside the user: the item column's name (from training) must not be one of them either -#}
  {%- set added = ['rank', 'score', 'model_version', 'scored_at'] -%}
  {%- if item.name in added -%}
    {{ exceptions.raise_compiler_error(context ~ "the model's item column '" ~ item.name ~ "' has the name of a "
        ~ "column ml_recommend adds (" ~ added | join(', ') ~ "), so the recommendations would have it twice; rename "
        ~ "it in the model's training relation (e.g. select " ~ item.name ~ " as item_" ~ item.name
        ~ "), set meta.item_column to the new name and retrain.") }}
  {%- endif -%}
  {%- if column in [item.name] + added -%}
    {{ exceptions.raise_compiler_error(context ~ "user column '" ~ column ~ "' has the name of an output column ("
        ~ ([item.name] + added) | join(', ') ~ "), so the recommendations would have it twice; rename it in the "
        ~ "relation (e.g. select " ~ column ~ " as source_" ~ column ~ ") and pass the new name as user_column.") }}
  {%- endif -%}
  {%- if k is not none and (k is not number or k is sameas true or k is sameas false or k < 1 or k != k | int) -%}
    {{ exceptions.raise_compiler_error(context ~ "k must be a positive integer (items per user); got " ~ k ~ ".") }}
  {%- endif -%}
  {%- if cold_start not in ['popular', 'none'] -%}
    {{ exceptions.raise_compiler_error(context ~ "cold_start must be 'popular' or 'none'; got '" ~ cold_start ~ "'.") }}
  {%- endif -%}
  {%- if exclude_seen is not sameas true and exclude_seen is not sameas false -%}
    {{ exceptions.raise_compiler_error(context ~ "exclude_seen must be true or false; got " ~ exclude_seen ~ ".") }}
  {%- endif -%}
  {%- for type in [user.type, item.type] -%}
    {%- if not modules.re.match('^[a-z][a-z0-9 _]*(\\([0-9, ]+\\))?$', type) -%}
      {{ exceptions.raise_compiler_error("dbt_learn: unexpected column type in the registry: " ~ type) }}
    {%- endif -%}
  {%- endfor -%}
  {%- set options = {'threads_per_model': dbt_learn.get_config('dbt_learn_threads_per_model'),
                     'dbt_threads': dbt_learn.target_threads(), 'exclude_seen': exclude_seen, 'cold_start': cold_start} -%}
(
    select
        batch.users[recommended.user_position]::{{ user.type }} as {{ dbt_learn.quote_identifier(column) }},
        recommended.item::{{ item.type }} as {{ dbt_learn.quote_identifier(item.name) }},
        recommended.rank as {{ dbt_learn.quote_identifier('rank') }},
        recommended.score as {{ dbt_learn.quote_identifier('score') }},
        {{ trained.version | int }} as model_version,
        {{ dbt_learn.as_of_sql() }} as scored_at
    from (
        select
            count(*) as n_users,
            array_agg(u.__dbt_learn_user) as users,
            string_agg({{ dbt_learn.text_bytes_sql('u.__dbt_learn_user') }}, ''::bytea) as user_bytes
        from (
            select distinct r.{{ dbt_learn.quote_identifier(column) }} as __dbt_learn_user
            from {{ relation }} as r
            where r.{{ dbt_learn.quote_identifier(column) }} is not null
        ) as u
        having count(*) > 0
    ) as batch
    cross join lateral dbt_learn.recommend_batch(
        {{ dbt_learn.sql_string_literal(model.schema) }}, {{ dbt_learn.sql_string_literal(model.identifier) }},
        {{ trained.version | int }}, batch.n_users, batch.user_bytes, {{ k | int if k is not none else 'null' }},
        {{ dbt_learn.sql_string_literal(tojson(options)) }}::jsonb
    ) as batch_recommendations
    cross join lateral unnest(batch_recommendations.user_position, batch_recommendations.item,
                              batch_recommendations.rank, batch_recommendations.score)
        as recommended(user_position, item, rank, score)
) as __dbt_learn_recommendations
{%- endmacro %}
