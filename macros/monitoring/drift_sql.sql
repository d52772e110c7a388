{#- Internal to ml_feature_drift and ml_prediction_drift: checks the arguments at compile time, then builds the
    drift query. `source` is 'features' (training_stats) or 'predictions' (evaluation['prediction_stats']). -#}
{% macro drift_monitor_sql(macro_name, source, model, relation, time_column, bucket, version, names, baseline) -%}
  {%- set label = model if model is string else (model.identifier if model.identifier is defined else model) -%}
  {%- set where = "dbt_learn: " ~ macro_name ~ "(" ~ label ~ "): " -%}
  {%- set argument = 'features' if source == 'features' else 'columns' -%}
  {%- set relation_argument = 'relation' if source == 'features' else 'predictions' -%}
  {%- if relation is string or relation is none or relation.identifier is not defined -%}
    {{ exceptions.raise_compiler_error(where ~ relation_argument ~ " must be a relation (ref() or source()), got '"
        ~ relation ~ "'.") }}
  {%- endif -%}
  {%- if baseline is none and (model is string or model.identifier is not defined or model.schema is not defined) -%}
    {{ exceptions.raise_compiler_error(where ~ "model must be a ref() of an ml_train model (its registry rows are the "
        ~ "baseline), got '" ~ model ~ "'; or pass baseline= a relation shaped like ml_feature_stats.") }}
  {%- endif -%}
  {%- if not modules.re.match('^[1-9][0-9]* (second|minute|hour|day|week)s?$', bucket | string) -%}
    {{ exceptions.raise_compiler_error(where ~ "bucket '" ~ bucket ~ "' is not an interval like '1 hour', '1 day' or "
        ~ "'7 days' (a whole number of seconds, minutes, hours, days or weeks; date_bin cannot bin months).") }}
  {%- endif -%}
  {%- if version is not none and not modules.re.match('^[1-9][0-9]*$', version | string) -%}
    {{ exceptions.raise_compiler_error(where ~ "version must be a version number, got '" ~ version ~ "'.") }}
  {%- endif -%}
  {%- set wanted = [names] if names is string else names -%}
  {%- if wanted is not none and (wanted is mapping or wanted is not iterable or not wanted
                                 or wanted | reject('string') | list) -%}
    {{ exceptions.raise_compiler_error(where ~ argument ~ " must be a column name or a non-empty list of column names, "
        ~ "got " ~ names ~ ".") }}
  {%- endif -%}

  {%- set resolved = dbt_learn.drift_relation_baseline(where, model, baseline, version) if baseline is not none
                     else dbt_learn.drift_registry_baseline(where, model, version, source) -%}
  {%- set known = resolved.entries | map(attribute='name') | list -%}
  {%- for name in wanted or [] if name not in known -%}
    {{ exceptions.raise_compiler_error(where ~ ('feature' if source == 'features' else 'column') ~ " '" ~ name
        ~ "' is missing from " ~ resolved.described ~ "; it has: " ~ known | join(', ') ~ ".") }}
  {%- endfor -%}
  {%- set columns = adapter.get_columns_in_relation(relation) -%}
  {%- set items = [] -%}
  {%- for item in resolved.entries if wanted is none or item.name in wanted -%}
    {%- set found = columns | selectattr('name', 'equalto', item.name) | list -%}
    {%- if not found -%}
      {{ exceptions.raise_compiler_error(where ~ ('feature' if source == 'features' else 'column') ~ " '" ~ item.name
          ~ "' of " ~ resolved.described ~ " is not a column of " ~ relation_argument ~ " " ~ relation
          ~ "; its columns are: " ~ columns | map(attribute='name') | join(', ') ~ "."
          ~ (" Choose the ones to compare with " ~ argument ~ "=[...]." if wanted is none else '')) }}
    {%- endif -%}
    {%- if item.kind is none -%}
      {{ exceptions.raise_compiler_error(where ~ "'" ~ item.name ~ "' has no histogram in " ~ resolved.described
          ~ " (NULL in every training row, or recorded before histograms existed); retrain it, or leave it out with "
          ~ argument ~ "=[...].") }}
    {%- endif -%}
    {%- set type = found[0].data_type | lower -%}
    {#- dates and timestamps are numeric as epoch seconds, as they travel to training -#}
    {%- if item.kind == 'numeric' and not (dbt_learn.is_numeric_type(type) or type in ('boolean', 'bool')
                                           or type.startswith(('date', 'timestamp', 'interval', 'time'))) -%}
      {{ exceptions.raise_compiler_error(where ~ "'" ~ item.name ~ "' is numeric in " ~ resolved.described
          ~ " but has type " ~ type ~ " in " ~ relation ~ ". Cast it to a number in the model that builds "
          ~ relation.identifier ~ ".") }}
    {%- endif -%}
    {#- A classifier's prediction is typed like its target; its class names become that type's text form. -#}
    {%- set cast = type if source == 'predictions' and item.kind == 'categorical'
                   and modules.re.match('^[a-z][a-z0-9 _]*(\\([0-9, ]+\\))?$', type) else none -%}
    {%- do items.append({'name': item.name, 'kind': item.kind, 'type': type, 'cast': cast}) -%}
  {%- endfor -%}
  {{ return(dbt_learn.drift_sql(items, relation, dbt_learn.monitoring_time_sql(relation, time_column, 'r',
                                'time_column'), bucket, dbt_learn.drift_baseline_sql(resolved, items
                                | map(attribute='name') | list), label, resolved.version)) }}
{%- endmacro %}

{#- PSI bands: stable below the first, moderate below the second, significant from it (the usual 0.1 / 0.25). -#}
{% macro drift_psi_bands() -%}
  {{ return({'moderate': 0.1, 'significant': 0.25}) }}
{%- endmacro %}

{#- The drift query. Bins mirror training.py _bin_shares: bin k = [edge k, edge k+1), the last bin closed, values
    outside the edges in the end bins (width_bucket counts the edges <= value). Shares are of non-null values.
    Categories the baseline does not list share one extra "other" bin, whose baseline share is what its list leaves.
    PSI replaces a share below 0.0001 by 0.0001 (an empty bin would make it infinite); JS distance (base 2, as
    scipy.spatial.distance.jensenshannon) needs no epsilon; KS is the largest gap between cumulative shares at the
    baseline's bin edges (its deciles), so numeric features only. -#}
{% macro drift_sql(items, relation, time_sql, bucket, baseline_sql, label, baseline_version) -%}
  {%- set bands = dbt_learn.drift_psi_bands() -%}
  {%- set epsilon = '0.0001::float8' -%}
  {%- set casts = [] -%}
  {%- for item in items if item.cast -%}
    {#- A classifier's class names, read as its prediction column's type and back, match that column's text. -#}
    {%- do casts.append('when ' ~ dbt_learn.sql_string_literal(item.name) ~ ' then c.category::' ~ item.cast
                        ~ '::text') -%}
  {%- endfor -%}
  {%- set category_sql = 'case item ' ~ casts | join(' ') ~ ' else c.category end' if casts else 'c.category' -%}
with baseline as (
    {{ baseline_sql }}
),

items as (
    select
        item,
        coalesce(jsonb_typeof(categories) = 'object', false) as categorical,
        case when jsonb_typeof(categories) is distinct from 'object' then array(
            select edge::float8 from jsonb_array_elements_text(quantiles) with ordinality as q (edge, i) order by i
        ) end as edges,
        case when jsonb_typeof(categories) = 'object' then array(
            select {{ category_sql }} from jsonb_each_text(categories) with ordinality as c (category, share, i)
            order by i
        ) end as categories,
        case when jsonb_typeof(categories) = 'object' then (select count(*) from jsonb_object_keys(categories)) + 1
             else jsonb_array_length(frequencies) end as n_bins
    from baseline
),

-- One row per baseline bin with its share, renormalised to sum to 1 (as scipy does for JS).
bins as (
    select item, bin, share / nullif(sum(share) over (partition by item), 0) as share
    from (
        select b.item, s.bin::int as bin, s.share::float8 as share
        from baseline as b
        cross join lateral jsonb_array_elements_text(b.frequencies) with ordinality as s (share, bin)
        where jsonb_typeof(b.categories) is distinct from 'object'
        union all
        select b.item, c.bin::int, c.share::float8
        from baseline as b
        cross join lateral jsonb_each_text(b.categories) with ordinality as c (category, share, bin)
        where jsonb_typeof(b.categories) = 'object'
        union all
        select b.item, i.n_bins::int, greatest(1 - (select sum(value::float8) from jsonb_each_text(b.categories)), 0)
        from baseline as b
        join items as i on i.item = b.item and i.categorical
    ) as listed
),

-- Each item's edges or categories as columns of one row, so every row of the relation is binned in place.
params as (
    select
        {%- for item in items %}
        (select i.{{ 'edges' if item.kind == 'numeric' else 'categories' }} from items as i
         where i.item = {{ dbt_learn.sql_string_literal(item.name) }}) as bounds_{{ loop.index }},
        (select i.n_bins from items as i where i.item = {{ dbt_learn.sql_string_literal(item.name) }})
            as n_bins_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
),

-- Each row's bin per item (NULL: the value is NULL); rows after "as of" or with a NULL time are left out.
binned as (
    select
        date_bin({{ dbt_learn.sql_string_literal(bucket) }}::interval, {{ time_sql }},
                 {{ dbt_learn.monitoring_bucket_origin_sql() }}) as bucket_start
        {%- for item in items %},
        {%- if item.kind == 'numeric' %}
        {#- NaN is missing, as in training (numpy.isnan) #}
        {%- set value = 'nullif(' ~ dbt_learn.feature_float8_sql({'name': item.name, 'type': item.type}, 'r')
                        ~ ", 'NaN'::float8)" %}
        case when {{ value }} is not null then
            least(greatest(width_bucket({{ value }}, p.bounds_{{ loop.index }}), 1), p.n_bins_{{ loop.index }})
        end as bin_{{ loop.index }}
        {%- else %}
        {%- set value = '(r.' ~ dbt_learn.quote_identifier(item.name) ~ ')::text' %}
        case when {{ value }} is not null then
            coalesce(array_position(p.bounds_{{ loop.index }}, {{ value }}), p.n_bins_{{ loop.index }})
        end as bin_{{ loop.index }}
        {%- endif %}
        {%- endfor %}
    from {{ relation }} as r
    cross join params as p
    where {{ time_sql }} <= {{ dbt_learn.as_of_sql() }}
),

-- Rows per bucket x item x bin: one grouping set per item, so the relation is read and hashed in one pass
-- (4x faster than unpivoting it first at 1M rows x 3 features).
grouped as (
    select
        bucket_start,
        {%- for item in items %}
        bin_{{ loop.index }},
        grouping(bin_{{ loop.index }}) as unused_{{ loop.index }},
        {%- endfor %}
        count(*) as n
    from binned
    group by grouping sets (
        {%- for item in items %}(bucket_start, bin_{{ loop.index }}){{ ', ' if not loop.last }}{% endfor -%}
    )
),

counts as (
    select g.bucket_start, u.item, u.bin, g.n
    from grouped as g
    cross join lateral (values
        {%- for item in items %}
        ({{ dbt_learn.sql_string_literal(item.name) }}, g.bin_{{ loop.index }}, g.unused_{{ loop.index }})
        {{- ',' if not loop.last }}
        {%- endfor %}
    ) as u (item, bin, unused)
    where u.unused = 0
),

totals as (
    select bucket_start, item, sum(n) as n, coalesce(sum(n) filter (where bin is null), 0) as nulls
    from counts
    group by 1, 2
),

shares as (
    select
        t.bucket_start,
        t.item,
        b.bin,
        b.share as expected,
        coalesce(c.n, 0)::float8 / (t.n - t.nulls) as actual
    from totals as t
    join bins as b on b.item = t.item
    left join counts as c on c.bucket_start = t.bucket_start and c.item = t.item and c.bin = b.bin
    where t.n > t.nulls
),

terms as (
    select
        bucket_start,
        item,
        (greatest(actual, {{ epsilon }}) - greatest(expected, {{ epsilon }}))
            * ln(greatest(actual, {{ epsilon }}) / greatest(expected, {{ epsilon }})) as psi_term,
        case when actual > 0 then actual * ln(2 * actual / (actual + expected)) else 0 end
            + case when expected > 0 then expected * ln(2 * expected / (actual + expected)) else 0 end as js_term,
        abs(sum(actual) over cumulative - sum(expected) over cumulative) as cdf_gap
    from shares
    window cumulative as (partition by bucket_start, item order by bin)
),

metrics as (
    select
        bucket_start,
        item,
        sum(psi_term) as psi,
        sqrt(greatest(sum(js_term) / (2 * ln(2)), 0)) as js_distance,
        max(cdf_gap) as ks_statistic
    from terms
    group by 1, 2
)

select
    t.bucket_start,
    t.item as feature,
    case when i.categorical then 'categorical' else 'numeric' end as feature_kind,
    t.n,
    t.nulls::float8 / t.n as null_share,
    m.psi,
    m.js_distance,
    case when not i.categorical then m.ks_statistic end as ks_statistic,
    case
        when m.psi is null then null
        when m.psi < {{ bands.moderate }} then 'stable'
        when m.psi < {{ bands.significant }} then 'moderate'
        else 'significant'
    end as band,
    {{ dbt_learn.sql_string_literal(label) }}::text as model_name,
    {{ baseline_version | int if baseline_version is not none else 'null' }}::int as baseline_version
from totals as t
join items as i on i.item = t.item
left join metrics as m on m.bucket_start = t.bucket_start and m.item = t.item
{%- endmacro %}
