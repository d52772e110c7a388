"""A synthetic lead-conversion prediction log and its late conversions, generated inside Postgres.

Leads arrive evenly over `days`; each is scored a minute after it arrives and one in a hundred prediction events
fires twice. A lead converts with its predicted probability (the model is calibrated), 0-36 hours after it arrived.
`append` adds the next day's leads (the 1 % increment the benchmark times) and their conversions."""

SCHEMA = "dbt_learn_bench_monitoring"
START = "2026-01-01 00:00:00+00"
SOURCES = ("ads", "organic", "referral", "email")


def _leads_sql(first, last, per_second):
    sources = "(array[" + ", ".join(f"'{s}'" for s in SOURCES) + "])[1 + g % 4]"
    return f"""
        select g as lead_id, {sources} as source,
               timestamptz '{START}' + g / {per_second} * interval '1 second' as created_at,
               round(random()::numeric, 3)::float8 as probability_true
        from generate_series({first}, {last}) as g"""


def _insert(conn, first, last, per_second):
    conn.execute(f"""
        create temporary table new_leads on commit drop as {_leads_sql(first, last, per_second)};
        insert into {SCHEMA}.prediction_log
        select lead_id, source, created_at, probability_true >= 0.5, probability_true, 1 - probability_true, 1,
               created_at + interval '1 minute' + (copy - 1) * interval '5 seconds'
        from new_leads cross join lateral generate_series(1, case when lead_id % 100 = 0 then 2 else 1 end) as copy;
        insert into {SCHEMA}.conversions
        select lead_id, true, created_at + random() * interval '36 hours'
        from new_leads where random() < probability_true;""")


def create(conn, rows, days=100):
    """The log holds about `rows` rows (leads plus 1 % duplicate events). Returns the leads per second."""
    leads = rows * 100 // 101
    per_second = leads / (days * 86400)
    with conn.transaction():
        conn.execute(f"drop schema if exists {SCHEMA} cascade; create schema {SCHEMA}")
        conn.execute(f"""
            create table {SCHEMA}.prediction_log (
                lead_id bigint, source text, created_at timestamptz, prediction boolean,
                probability_true float8, probability_false float8, model_version int, scored_at timestamptz);
            create table {SCHEMA}.conversions (lead_id bigint, converted boolean, converted_at timestamptz);
            select setseed(0.42);""")
        _insert(conn, 1, leads, per_second)
    # The indexes a monitored log should have (the README says so): incremental runs read by time, labels by key.
    conn.execute(f"create index on {SCHEMA}.prediction_log (created_at)")
    conn.execute(f"create index on {SCHEMA}.prediction_log (lead_id)")
    conn.execute(f"create index on {SCHEMA}.conversions (lead_id)")
    conn.execute(f"analyze {SCHEMA}.prediction_log; analyze {SCHEMA}.conversions")
    return {"leads": leads, "per_second": per_second, "days": days}


def append(conn, state, share=0.01):
    """Add `share` of the leads again, after the last one; returns the new state."""
    first = state["leads"] + 1
    last = state["leads"] + int(state["leads"] * share)
    with conn.transaction():
        _insert(conn, first, last, state["per_second"])
    conn.execute(f"analyze {SCHEMA}.prediction_log; analyze {SCHEMA}.conversions")
    return {**state, "leads": last}


def last_created_at(conn):
    return conn.execute(f"select max(created_at) from {SCHEMA}.prediction_log").fetchone()[0]
