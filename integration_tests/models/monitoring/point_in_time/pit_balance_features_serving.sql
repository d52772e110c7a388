{#- Serving features: the same sources, every customer as of dbt_learn.as_of_sql(). -#}
{{ dbt_learn.ml_as_of_join(ref('pit_serving_customers'), 'customer_key', features=[
    {'relation': ref('pit_balances'), 'entity_column': 'customer_id', 'event_time_column': 'event_time',
     'known_at_column': 'loaded_at', 'columns': ['balance', 'tier'], 'prefix': 'bal_'},
    {'relation': ref('pit_profiles'), 'entity_column': 'cust_ref', 'event_time_column': 'valid_from',
     'columns': ['segment'], 'prefix': 'profile_'},
]) }}
