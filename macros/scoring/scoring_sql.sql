{#- The scoring subquery. dbt_learn.score_relation reads the relation once, through a cursor with the caller's
    privileges, and scores it in chunks of about dbt_learn_score_chunk_mb of row bytes (backend memory is bounded by
    the chunk, not the table); each row arrives as bytea that this SQL builds (features as float8, text features
    zero-terminated, ids as binary array elements), so Python only joins bytes. dbt_learn.read_scores returns one row
    of arrays per chunk (ids beside predictions, in the same order) and unnest zips them back into rows: no row
    numbers, no sort, no join. `relation` may be a subquery (a prediction log's unscored rows); with no rows the model
    is not loaded. `scored_at` is the run's as-of moment. -#}
{% macro scoring_sql(model, relation, ids, trained, explain=none) -%}
  {%- set categorical = trained.features | selectattr('kind', 'equalto', 'categorical') | list -%}
  {%- set options = {'threads_per_model': dbt_learn.get_config('dbt_learn_threads_per_model'),
                     'dbt_threads': dbt_learn.target_threads(), 'explain': explain,
                     'chunk_mb': dbt_learn.get_config('dbt_learn_score_chunk_mb')} -%}
  {%- if options.chunk_mb is not number or options.chunk_mb is boolean or options.chunk_mb <= 0 -%}
    {{ exceptions.raise_compiler_error("dbt_learn: ml_score(" ~ this.identifier ~ "): dbt_learn_score_chunk_mb must "
        ~ "be a positive number of megabytes per scoring chunk (default 64); got " ~ options.chunk_mb) }}
  {%- endif -%}
  {%- set id_types = dbt_learn.id_column_types(relation, ids) -%}
  {%- set q = dbt_learn.quote_identifier -%}
  {#- one bytea per row: the numeric features, then each fixed-width id as an element of Postgres' binary array
      format (int4 length, send bytes; length -1 and zero padding for NULL); text features and other ids apart -#}
  {%- set row_bytes = [dbt_learn.feature_bytes_sql(trained.features, 'r')] -%}
  {%- set row_parts = [] -%}
  {%- for feature in categorical -%}
    {%- do row_parts.append(dbt_learn.text_bytes_sql('r.' ~ q(feature.name)) ~ ' as text_' ~ loop.index) -%}
  {%- endfor -%}
  {%- set zipped = [] -%}
  {%- set names = [] -%}
  {%- set id_columns = [] -%}
  {%- for column in ids -%}
    {%- set id_type = id_types[loop.index0] -%}
    {%- if id_type.width -%}
      {%- do row_bytes.append("coalesce('\\x" ~ '%08x' % id_type.width ~ "'::bytea || " ~ id_type.send ~ '(r.'
                              ~ q(column) ~ "), '\\xffffffff" ~ '00' * id_type.width ~ "'::bytea)") -%}
    {%- else -%}
      {%- do row_parts.append('substring(array_send(array[r.' ~ q(column) ~ ']) from 21) as id_' ~ loop.index) -%}
    {%- endif -%}
    {%- do id_columns.append('__dbt_learn_id_' ~ loop.index ~ ' ' ~ id_type.type ~ '[]') -%}
    {%- do zipped.append('batch.__dbt_learn_id_' ~ loop.index) -%}
    {%- do names.append(q(column)) -%}
  {%- endfor -%}
  {%- if trained.task in ('regression', 'anomaly_detection') -%}
    {%- do zipped.append('batch.prediction') -%}
    {%- do names.append('__dbt_learn_prediction') -%}
  {%- endif -%}
  {%- if trained.task != 'regression' -%}
    {%- do zipped.append('batch.class_index') -%}
    {%- do names.append('__dbt_learn_class_index') -%}
  {%- endif -%}
  {%- if trained.task == 'classification' and trained.predicts_probabilities -%}
    {%- for label in trained.classes -%}
      {#- probabilities are class-major: class k holds elements (k-1)*n+1 .. k*n -#}
      {%- do zipped.append('batch.probabilities[' ~ loop.index0 ~ ' * batch.n_rows + 1 : '
                           ~ loop.index ~ ' * batch.n_rows]') -%}
      {%- do names.append('__dbt_learn_probability_' ~ loop.index) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set query = 'select ' ~ ([row_bytes | join(' || ') ~ ' as row_bytes'] + row_parts) | join(', ')
                  ~ ' from ' ~ relation ~ ' as r' -%}
  {#- A table (not a subquery) is read by block ranges, each chunk one aggregate (see _streaming._block_chunks). -#}
  {%- set chunk_query = none -%}
  {%- if relation is not string and relation.identifier is defined -%}
    {%- set aggregated = ['count(*) as n_rows', "string_agg(" ~ row_bytes | join(' || ') ~ ", ''::bytea) as row_bytes"] -%}
    {%- for feature in categorical -%}
      {%- do aggregated.append("string_agg(" ~ dbt_learn.text_bytes_sql('r.' ~ q(feature.name)) ~ ", ''::bytea) as text_"
                               ~ loop.index) -%}
    {%- endfor -%}
    {%- for column in ids -%}
      {%- if not id_types[loop.index0].width -%}
        {%- do aggregated.append('substring(array_send(array_agg(r.' ~ q(column) ~ ')) from 21) as id_' ~ loop.index) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- set chunk_query = 'select ' ~ aggregated | join(', ') ~ ' from ' ~ relation ~ ' as r where r.ctid >= $1 and r.ctid < $2' -%}
  {%- endif -%}
  {%- set type_oids = [] -%}
  {%- set widths = [] -%}
  {%- for t in id_types -%}
    {%- do type_oids.append(t.oid | int) -%}
    {%- do widths.append(t.width | int) -%}
  {%- endfor %}
(
    select
        {%- for column in ids %}
        scored.{{ q(column) }},
        {%- endfor %}
        {{ dbt_learn.prediction_columns_sql(trained) }}
        {%- if explain %}
        {{ dbt_learn.explanation_sql(trained, explain) }} as explanation,
        {%- endif %}
        {{ trained.version | int }} as model_version,
        {{ dbt_learn.as_of_sql() }} as scored_at
    from dbt_learn.read_scores(dbt_learn.score_relation(
        {{ dbt_learn.sql_string_literal(model.schema) }}, {{ dbt_learn.sql_string_literal(model.identifier) }},
        {{ trained.version | int }}, {{ dbt_learn.sql_string_literal(query) }},
        {{ dbt_learn.sql_string_literal(chunk_query) if chunk_query else 'null' }},
        {{ dbt_learn.sql_string_literal(relation | string) if chunk_query else 'null' }},
        array[{{ type_oids | join(', ') }}]::oid[], array[{{ widths | join(', ') }}]::integer[],
        {{ dbt_learn.sql_string_literal(tojson(options)) }}::jsonb
    )) as batch(n_rows bigint, prediction double precision[], class_index integer[], probabilities double precision[],
                contribution_feature integer[], contribution double precision[]
                {%- for column in id_columns %}, {{ column }}{% endfor %})
    cross join lateral unnest({{ zipped | join(', ') }}) with ordinality as scored({{ names | join(', ') }}, __dbt_learn_row)
) as __dbt_learn_scores
{%- endmacro %}
