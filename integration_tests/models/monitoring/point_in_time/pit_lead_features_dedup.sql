{#- The same, counting each lead once (duplicate events of a lead_id: its latest row in the window). -#}
{{ dbt_learn.ml_trailing_aggregate(ref('pit_lead_spine'), 'lead_source', time_column='scored_at',
    events=ref('pit_lead_events'), event_entity_column='source', event_time_column='created_at',
    known_at_column='outcome_known_at', window='3 hours', aggregates=config.get('meta', {}).get('pit_aggregates'),
    group_column='lead_id') }}
