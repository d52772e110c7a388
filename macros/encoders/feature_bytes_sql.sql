{#- One row's numeric features as big-endian float8 bytes, NULL as NaN (a NULL would otherwise null the whole
    concatenation and string_agg would drop the row). -#}
{% macro feature_bytes_sql(features, alias) -%}
  {%- set parts = [] -%}
  {%- for feature in features if feature.kind != 'categorical' -%}
    {%- do parts.append("coalesce(float8send(" ~ dbt_learn.feature_float8_sql(feature, alias)
                        ~ "), '\\x7ff8000000000000'::bytea)") -%}
  {%- endfor -%}
  {{ return(parts | join(' || ') if parts else "''::bytea") }}
{%- endmacro %}
