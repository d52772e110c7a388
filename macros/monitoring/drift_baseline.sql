{#- Internal to ml_feature_drift and ml_prediction_drift: where the baseline comes from, checked when the model
    compiles (plain SQL, no PL/Python). Each returns {'version', 'items': [{'name', 'kind'}], 'where'} where kind is
    'numeric' (decile edges and shares), 'categorical' (category shares) or none (no histogram stored), and
    drift_baseline_sql turns it into the baseline rows the drift query reads. -#}

{#- The kind of one stored entry, by the rule the SQL applies too (drift_sql): category shares make it categorical,
    edges with shares numeric. -#}
{% macro drift_entry_kind(entry) -%}
  {%- if entry is mapping and entry.categories is mapping -%}
    {{ return('categorical') }}
  {%- elif entry is mapping and entry.quantiles is sequence and entry.quantiles is not string
           and entry.frequencies is sequence and entry.frequencies is not string -%}
    {{ return('numeric') }}
  {%- endif -%}
  {{ return(none) }}
{%- endmacro %}

{#- The registry: training_stats ('features') or evaluation -> 'prediction_stats' ('predictions') of the pinned
    version, else the deployed one (dbt_learn.serving_version). -#}
{% macro drift_registry_baseline(where, model, version, source) -%}
  {%- set stats_sql = 'v.training_stats' if source == 'features' else "(v.evaluation -> 'prediction_stats')" -%}
  {%- set rows = dbt_learn.fetch_rows(
      "with wanted as (select %s::text as model_schema, %s::text as model_name, %s::int as pinned)
       select v.version, " ~ stats_sql ~ "::text, v.features::text,
              (select string_agg(a.version::text, ', ' order by a.version) from dbt_learn.model_versions as a
               where a.model_schema = w.model_schema and a.model_name = w.model_name)
       from wanted as w
       left join dbt_learn.model_versions as v
         on v.model_schema = w.model_schema and v.model_name = w.model_name
        and v.version = coalesce(w.pinned, dbt_learn.serving_version(w.model_schema, w.model_name))",
      [model.schema, model.identifier, version]) -%}
  {%- set version_sql, stats_text, features_text, versions = rows[0] -%}
  {%- if versions is none -%}
    {{ exceptions.raise_compiler_error(where ~ "model '" ~ model.identifier ~ "' (schema " ~ model.schema ~ ") has "
        ~ "no trained version in the registry, so no stored baseline. Train it first (dbt run -s "
        ~ model.identifier ~ "; dbt build orders it), or pass baseline= a relation shaped like ml_feature_stats.") }}
  {%- endif -%}
  {%- if version_sql is none -%}
    {{ exceptions.raise_compiler_error(where ~ "model '" ~ model.identifier ~ "' has no version " ~ version
        ~ "; its versions are: " ~ versions ~ ".") }}
  {%- endif -%}
  {%- set stats = fromjson(stats_text) if stats_text else none -%}
  {%- if not stats -%}
    {%- if source == 'features' -%}
      {{ exceptions.raise_compiler_error(where ~ "model '" ~ model.identifier ~ "' v" ~ version_sql ~ " has no stored "
          ~ "baseline (its training_stats are empty); retrain it (dbt run --full-refresh -s " ~ model.identifier
          ~ "), or pass baseline= a relation shaped like ml_feature_stats.") }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(where ~ "model '" ~ model.identifier ~ "' v" ~ version_sql ~ " has no stored "
        ~ "prediction baseline; retrain it (dbt run --full-refresh -s " ~ model.identifier ~ "). Versions trained "
        ~ "before dbt_learn recorded evaluation['prediction_stats'], and Python models whose code fitted the "
        ~ "estimator, have none.") }}
  {%- endif -%}
  {#- Features in training order; prediction columns with `prediction` first. -#}
  {%- set others = stats.keys() | reject('equalto', 'prediction') | sort -%}
  {%- set names = fromjson(features_text) | map(attribute='name') | list if source == 'features'
                  else (['prediction'] if 'prediction' in stats else []) + others -%}
  {%- set items = [] -%}
  {%- for name in names if name in stats -%}
    {%- do items.append({'name': name, 'kind': dbt_learn.drift_entry_kind(stats[name])}) -%}
  {%- endfor -%}
  {{ return({'version': version_sql, 'entries': items, 'relation': none, 'stats_sql': stats_sql,
             'model_schema': model.schema, 'model_name': model.identifier,
             'described': "the baseline of model '" ~ model.identifier ~ "' v" ~ version_sql}) }}
{%- endmacro %}

{#- A relation shaped like ml_feature_stats: one row per feature_name with quantiles, frequencies and categories
    (jsonb, or text holding JSON). When it has model_schema / model_name / version columns it is narrowed to the
    model and to `version`, else to its newest version. -#}
{% macro drift_relation_baseline(where, model, baseline, version) -%}
  {%- set columns = adapter.get_columns_in_relation(baseline) | map(attribute='name') | list -%}
  {%- for column in ['feature_name', 'quantiles', 'frequencies', 'categories'] if column not in columns -%}
    {{ exceptions.raise_compiler_error(where ~ "baseline " ~ baseline ~ " has no column '" ~ column ~ "'; it must be "
        ~ "shaped like the ml_feature_stats model (feature_name, quantiles, frequencies, categories). Its columns "
        ~ "are: " ~ columns | join(', ') ~ ".") }}
  {%- endfor -%}
  {%- set filters = [] -%}
  {%- if 'model_schema' in columns and model is not string -%}
    {%- do filters.append('{a}.model_schema = ' ~ dbt_learn.sql_string_literal(model.schema)) -%}
  {%- endif -%}
  {%- if 'model_name' in columns -%}
    {%- do filters.append('{a}.model_name = ' ~ dbt_learn.sql_string_literal(model if model is string
                                                                               else model.identifier)) -%}
  {%- endif -%}
  {%- if 'version' in columns -%}
    {%- set same_model = (['true'] + filters) | join(' and ') | replace('{a}', 'newest') -%}
    {%- do filters.append('{a}.version = ' ~ (version | int if version is not none else
        '(select max(newest.version) from ' ~ baseline ~ ' as newest where ' ~ same_model ~ ')')) -%}
  {%- endif -%}
  {%- set where_sql = (['true'] + filters) | join(' and ') | replace('{a}', 'b') -%}
  {%- set rows = dbt_learn.fetch_rows(
      "select b.feature_name::text, count(*),
              coalesce(bool_and(jsonb_typeof(b.categories::jsonb) = 'object'), false),
              coalesce(bool_and(jsonb_typeof(b.quantiles::jsonb) = 'array'
                                and jsonb_typeof(b.frequencies::jsonb) = 'array'), false),
              " ~ ('max(b.version)' if 'version' in columns else 'null::int') ~ "
       from " ~ baseline ~ " as b where " ~ where_sql ~ " and b.feature_name is not null
       group by 1 order by " ~ ('min(b.feature_position), ' if 'feature_position' in columns else '') ~ "1", []) -%}
  {%- if not rows -%}
    {{ exceptions.raise_compiler_error(where ~ "baseline " ~ baseline ~ " has no rows" ~ (" for this model"
        ~ (" and version " ~ version if version is not none else '') if filters else '') ~ ", so no stored "
        ~ "baseline. Fill it, or read the registry's (leave baseline= out).") }}
  {%- endif -%}
  {%- set items = [] -%}
  {%- for name, count, categorical, numeric, found_version in rows -%}
    {%- if count > 1 -%}
      {{ exceptions.raise_compiler_error(where ~ "baseline " ~ baseline ~ " has " ~ count ~ " rows for feature '"
          ~ name ~ "'; it needs one per feature (filter it to one model and version).") }}
    {%- endif -%}
    {%- do items.append({'name': name, 'kind': 'categorical' if categorical else ('numeric' if numeric else none)}) -%}
  {%- endfor -%}
  {{ return({'version': rows[0][4], 'entries': items, 'relation': baseline, 'where_sql': where_sql,
             'described': "baseline " ~ baseline}) }}
{%- endmacro %}

{#- The baseline rows of the chosen items: item, quantiles, frequencies, categories (jsonb). -#}
{% macro drift_baseline_sql(resolved, names) -%}
  {%- set literals = [] -%}
  {%- for name in names -%}
    {%- do literals.append(dbt_learn.sql_string_literal(name)) -%}
  {%- endfor -%}
  {%- if resolved.relation is none -%}
    {%- set entry = resolved.stats_sql ~ ' -> f.item' %}
    select
        f.item,
        {{ entry }} -> 'quantiles' as quantiles,
        {{ entry }} -> 'frequencies' as frequencies,
        {{ entry }} -> 'categories' as categories
    from dbt_learn.model_versions as v
    cross join (values ({{ literals | join('), (') }})) as f (item)
    where v.model_schema = {{ dbt_learn.sql_string_literal(resolved.model_schema) }}
      and v.model_name = {{ dbt_learn.sql_string_literal(resolved.model_name) }}
      and v.version = {{ resolved.version | int }}
  {%- else %}
    select
        b.feature_name::text as item,
        b.quantiles::jsonb as quantiles,
        b.frequencies::jsonb as frequencies,
        b.categories::jsonb as categories
    from {{ resolved.relation }} as b
    where {{ resolved.where_sql }}
      and b.feature_name::text in ({{ literals | join(', ') }})
  {%- endif -%}
{%- endmacro %}
