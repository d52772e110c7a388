{#- meta.retrain_on at the start of an ml_train run: for each rule, the newest period of its monitor that is newer
    than the newest version's training (on the dbt_learn_as_of clock, plus the rule's cooldown), and whether a row of
    it crosses a threshold. Returns one reason per breached rule, e.g. "monitor churn_feature_drift: psi=0.41 >
    max_value 0.25 at bucket_start 2026-01-05T00:00:00Z (feature=age, 2 of 12 rows)". A period is acted on once: the
    version it trains is newer than it. A monitor that does not exist yet (the first run builds it after the model)
    is a logged note; a model without versions has nothing to retrain, so its monitors are not read. -#}
{% macro monitor_breaches(model, relation, rules) -%}
  {%- if not rules -%}
    {{ return([]) }}
  {%- endif -%}
  {%- set newest = dbt_learn.fetch_rows(
      "select version, coalesce(trained_as_of, trained_at)::text from dbt_learn.model_versions
       where model_schema = %s and model_name = %s order by version desc limit 1",
      [relation.schema, relation.identifier]) -%}
  {%- set version, trained = newest[0] if newest else [none, none] -%}
  {%- set breaches = [] -%}
  {%- for rule in rules -%}
    {%- set found = dbt_learn.monitor_relation(model, relation, rule) -%}
    {%- set name = "monitor " ~ rule.monitor -%}
    {%- if found.relation is none -%}
      {{ log("dbt_learn: " ~ model.name ~ ": note: retrain_on " ~ name ~ " does not exist yet (looked for "
             ~ found.name ~ "); not checked this run. A monitor built from this model's scores exists after "
             ~ "its first run.", info=True) }}
    {%- elif version is not none -%}
      {%- set since = dbt_learn.sql_string_literal(trained) ~ "::timestamptz" -%}
      {%- if rule.cooldown -%}
        {%- set since = "(" ~ since ~ " + interval " ~ dbt_learn.sql_string_literal(rule.cooldown) ~ ")" -%}
      {%- endif -%}
      {%- set rows = dbt_learn.fetch_rows(
          dbt_learn.monitor_check_sql(model, rule, loop.index0, found.relation, since), none) -%}
      {%- set after = "v" ~ version ~ "'s training" ~ (" + " ~ rule.cooldown if rule.cooldown else "") -%}
      {%- if not rows -%}
        {{ log("dbt_learn: " ~ model.name ~ ": retrain_on " ~ name ~ ": no period after " ~ after ~ " yet") }}
      {%- else -%}
        {%- set period, value, is_breach, breaching, period_rows, time_column = rows[0][:6] -%}
        {%- set shown = "none" if value is none else "%.6g" | format(value) -%}
        {%- set crossed = "> max_value " ~ rule.max_value
                          if rule.max_value is not none and value is not none and value > rule.max_value
                          else "< min_value " ~ rule.min_value -%}
        {%- set details = rows[0][6:] | reject('none') | list
                          + ([breaching ~ " of " ~ period_rows ~ " rows"] if period_rows > 1 else []) -%}
        {%- set where = " at " ~ time_column ~ " " ~ period ~ (" (" ~ details | join(', ') ~ ")" if details else "") -%}
        {%- if is_breach -%}
          {%- do breaches.append(name ~ ": " ~ rule.metric ~ "=" ~ shown ~ " " ~ crossed ~ where) -%}
        {%- else -%}
          {{ log("dbt_learn: " ~ model.name ~ ": retrain_on " ~ name ~ ": within thresholds, worst " ~ rule.metric
                 ~ "=" ~ shown ~ where) }}
        {%- endif -%}
      {%- endif -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(breaches) }}
{%- endmacro %}
