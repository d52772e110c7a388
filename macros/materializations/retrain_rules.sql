{#- meta.retrain_on: the monitors whose breach trains a new version, checked once when the options are read, before
    any data moves. A rule is {monitor, metric, max_value and/or min_value, time_column?, where?, schema?, cooldown?};
    one rule may be given without the list. Returns the rules with every key present. -#}
{% macro retrain_rules(model, value) -%}
  {%- set prefix = "dbt_learn: model '" ~ model.name ~ "': meta.retrain_on" -%}
  {%- set shape = " Each rule is a mapping like {monitor: churn_feature_drift, metric: psi, max_value: 0.25}, with "
                  ~ "max_value and/or min_value, and optionally time_column, where, schema and cooldown." -%}
  {%- set keys = ['monitor', 'metric', 'max_value', 'min_value', 'time_column', 'where', 'schema', 'cooldown'] -%}
  {%- if value is none -%}
    {{ return([]) }}
  {%- endif -%}
  {%- set items = [value] if value is mapping else value -%}
  {%- if items is string or items is not iterable -%}
    {{ exceptions.raise_compiler_error(prefix ~ " must be a list of rules, got " ~ value | tojson ~ "." ~ shape) }}
  {%- endif -%}
  {%- set rules = [] -%}
  {%- for item in items -%}
    {%- set at = prefix ~ "[" ~ loop.index0 ~ "]" -%}
    {%- if item is not mapping -%}
      {{ exceptions.raise_compiler_error(at ~ " must be a mapping, got " ~ item | tojson ~ "." ~ shape) }}
    {%- endif -%}
    {%- set unknown = item.keys() | reject('in', keys) | list -%}
    {%- if unknown -%}
      {%- set close = [] -%}
      {%- for key in keys if unknown[0] | string | lower in key or key in unknown[0] | string | lower -%}
        {%- do close.append(key) -%}
      {%- endfor -%}
      {{ exceptions.raise_compiler_error(at ~ ": unknown key '" ~ unknown[0] ~ "'"
          ~ ("; did you mean " ~ close | join(' or ') ~ "?" if close else "") ~ " The keys of a rule are: "
          ~ keys | join(', ') ~ ".") }}
    {%- endif -%}
    {%- for key in ['monitor', 'metric'] -%}
      {%- if item.get(key) is not string or not item.get(key) | trim -%}
        {{ exceptions.raise_compiler_error(at ~ "." ~ key ~ " is required: the name of the monitor relation "
            ~ "(monitor) and of its column to check (metric)." ~ shape) }}
      {%- endif -%}
    {%- endfor -%}
    {%- if '.' in item.monitor -%}
      {{ exceptions.raise_compiler_error(at ~ ".monitor '" ~ item.monitor ~ "': give the relation's name only, and "
          ~ "its schema as meta.retrain_on[" ~ loop.index0 ~ "].schema when it is not the model's (or the monitor "
          ~ "model's) schema.") }}
    {%- endif -%}
    {%- if item.get('max_value') is none and item.get('min_value') is none -%}
      {{ exceptions.raise_compiler_error(at ~ " (monitor " ~ item.monitor ~ ", metric " ~ item.metric ~ ") needs a "
          ~ "threshold: max_value (retrain when the metric rises above it, e.g. psi) and/or min_value (when it "
          ~ "falls below it, e.g. roc_auc).") }}
    {%- endif -%}
    {%- for key in ['max_value', 'min_value'] -%}
      {%- set threshold = item.get(key) -%}
      {%- if threshold is not none and (threshold is boolean or threshold is not number) -%}
        {{ exceptions.raise_compiler_error(at ~ "." ~ key ~ " must be a number, got " ~ threshold | tojson
            ~ "; write it without quotes, e.g. 0.25.") }}
      {%- endif -%}
    {%- endfor -%}
    {%- if item.get('max_value') is not none and item.get('min_value') is not none
           and item.min_value > item.max_value -%}
      {{ exceptions.raise_compiler_error(at ~ ": min_value " ~ item.min_value ~ " is above max_value "
          ~ item.max_value ~ ", so every value would be a breach; swap them.") }}
    {%- endif -%}
    {%- for key in ['time_column', 'schema'] -%}
      {%- if item.get(key) is not none and (item.get(key) is not string or not item.get(key) | trim) -%}
        {{ exceptions.raise_compiler_error(at ~ "." ~ key ~ " must be a name, got " ~ item.get(key) ~ ".") }}
      {%- endif -%}
    {%- endfor -%}
    {%- set cooldown = item.get('cooldown') -%}
    {%- if cooldown is not none and (cooldown is not string
           or not modules.re.match('^[0-9]+ (second|minute|hour|day|week|month)s?$', cooldown | trim)) -%}
      {{ exceptions.raise_compiler_error(at ~ ".cooldown must be an interval like '7 days' or '12 hours' (a whole "
          ~ "number of seconds, minutes, hours, days, weeks or months), got " ~ cooldown ~ ".") }}
    {%- endif -%}
    {%- set where = item.get('where') or {} -%}
    {%- if where is not mapping -%}
      {{ exceptions.raise_compiler_error(at ~ ".where must be a mapping of monitor columns to the values to keep, "
          ~ "e.g. {window_size: '7 days'}, got " ~ where | tojson ~ ".") }}
    {%- endif -%}
    {%- for column, wanted in where.items() -%}
      {#- A value or a list of values; nested lists and mappings are refused. -#}
      {%- set values = wanted if (wanted is iterable and wanted is not string and wanted is not mapping)
                       else [wanted] -%}
      {%- if column is not string or not values or values | select('iterable') | reject('string') | list -%}
        {{ exceptions.raise_compiler_error(at ~ ".where: '" ~ column ~ "' must map to a value or a list of values "
            ~ "(text, numbers, booleans or null), got " ~ wanted | tojson ~ ".") }}
      {%- endif -%}
    {%- endfor -%}
    {%- do rules.append({
        'monitor': item.monitor | trim, 'metric': item.metric, 'max_value': item.get('max_value'),
        'min_value': item.get('min_value'), 'time_column': item.get('time_column'), 'where': where,
        'schema': item.get('schema'), 'cooldown': cooldown | trim if cooldown else none}) -%}
  {%- endfor -%}
  {{ return(rules) }}
{%- endmacro %}
