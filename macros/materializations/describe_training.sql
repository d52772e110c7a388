{#- One log line a training: "dbt_learn: trained churn_model v7 on 12,304 rows in 3.1 s, accuracy=0.912". -#}
{% macro describe_training(model, trained) -%}
  {%- set parts = ["dbt_learn: trained " ~ model.name ~ " v" ~ trained.version ~ " (" ~ trained.algorithm.split('.')[-1]
                   ~ ") on " ~ "{:,}".format(trained.training_rows) ~ " rows in "
                   ~ "%.2f" | format(trained.fit_seconds) ~ " s"] -%}
  {%- if trained.headline_value is not none -%}
    {%- do parts.append(trained.headline_metric ~ "=" ~ "%.4f" | format(trained.headline_value) ~ " on "
                        ~ trained.holdout_rows ~ " holdout rows") -%}
  {%- endif -%}
  {{ return(parts | join(', ')) }}
{%- endmacro %}
