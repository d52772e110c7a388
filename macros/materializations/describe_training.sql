{#- One log line a training run: "dbt_learn: trained churn_model v7 (LogisticRegression) on 12,304 rows in 3.10 s,
    accuracy=0.9120 on 2,461 holdout rows; serving v7 (newest version); training reason: monitor churn_drift:
    psi=0.41 > max_value 0.25 at bucket_start 2026-01-05T00:00:00Z (feature=age)", or why nothing was trained. -#}
{% macro describe_training(model, trained) -%}
  {%- set deployment = trained.deployment or {} -%}
  {%- set serving = "; serving v" ~ deployment.deployed_version ~ " (" ~ deployment.reason ~ ")"
                    if deployment.deployed_version is not none else "" -%}
  {%- if trained.skipped -%}
    {{ return("dbt_learn: kept " ~ model.name ~ ", no training: " ~ trained.reason ~ serving) }}
  {%- endif -%}
  {%- set parts = ["dbt_learn: trained " ~ model.name ~ " v" ~ trained.version ~ " (" ~ trained.algorithm.split('.')[-1]
                   ~ ") on " ~ "{:,}".format(trained.training_rows) ~ " rows"
                   ~ (" (meta.sample of " ~ "{:,}".format(trained.sample.rows_seen) ~ ")" if trained.sample else "")
                   ~ (" (partial_fit: " ~ trained.partial_fit.epochs ~ " epoch(s), "
                      ~ "{:,}".format(trained.partial_fit.chunks) ~ " chunks)" if trained.partial_fit else "")
                   ~ " in "
                   ~ "%.2f" | format(trained.fit_seconds) ~ " s"] -%}
  {%- if trained.headline_value is not none -%}
    {%- do parts.append(trained.headline_metric ~ "=" ~ "%.4f" | format(trained.headline_value) ~ " on "
                        ~ "{:,}".format(trained.holdout_rows) ~ " holdout rows") -%}
  {%- endif -%}
  {%- set why = "; training reason: " ~ trained.training_reason if trained.training_reason else "" -%}
  {{ return(parts | join(', ') ~ serving ~ why) }}
{%- endmacro %}
