{#- Training features: every spine row as of its own observed_at, from a late-loading source and a dated one. -#}
{{ dbt_learn.ml_as_of_join(ref('pit_spine'), 'customer_key', time_column='observed_at', features=[
    {'relation': ref('pit_balances'), 'entity_column': 'customer_id', 'event_time_column': 'event_time',
     'known_at_column': 'loaded_at', 'columns': ['balance', 'tier'], 'prefix': 'bal_'},
    {'relation': ref('pit_profiles'), 'entity_column': 'cust_ref', 'event_time_column': 'valid_from',
     'columns': ['segment'], 'prefix': 'profile_'},
]) }}
