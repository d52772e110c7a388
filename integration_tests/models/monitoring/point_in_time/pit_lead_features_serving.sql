{#- Serving: every source as of dbt_learn.as_of_sql(), by the same macro and arguments as pit_lead_features. -#}
{{ dbt_learn.ml_trailing_aggregate(ref('pit_serving_sources'), 'lead_source',
    events=ref('pit_lead_events'), event_entity_column='source', event_time_column='created_at',
    known_at_column='outcome_known_at', window='3 hours', aggregates=config.get('meta', {}).get('pit_aggregates')) }}
