"""Point-in-time features never return what was unknown at the spine time: every row of dbt_learn.ml_as_of_join and
ml_trailing_aggregate equals a brute-force pandas computation of the rule over the same seed rows (late-loaded rows,
ties, boundaries, NULLs, naive/zoned/date times), serving as of dbt_learn_as_of equals training at that moment, and
dbt_learn.ml_no_future_leakage passes on the macros' output and fails, naming the rows, on a leaky hand-written join."""

import math
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import psycopg
import pytest
import yaml

from .conftest import query
from .harness import REPO, connect, connection_info

AS_OF = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)
VARS = '{dbt_learn_as_of: "2024-03-01 12:00:00+00"}'
SEEDS, MODELS = "path:seeds/monitoring/point_in_time", "path:models/monitoring/point_in_time"
WINDOW = timedelta(hours=3)
YML = REPO / "integration_tests/models/monitoring/point_in_time/point_in_time.yml"
AGGREGATES = yaml.safe_load(YML.read_text())["x-pit-aggregates"]  # the one list the trailing models use
SOURCES = {  # output prefix: (seed, entity, event time, known at, columns), as in pit_balance_features.sql
    "bal_": ("pit_balances", "customer_id", "event_time", "loaded_at", ["balance", "tier"]),
    "profile_": ("pit_profiles", "cust_ref", "valid_from", None, ["segment"]),
}


@pytest.fixture(scope="module")
def pit(project):
    """The area's seeds and models, rebuilt with the run's "now" pinned to AS_OF."""
    result = project.dbt("build", "-s", SEEDS, MODELS, "--exclude", "tag:expect_failure", "--vars", VARS)
    assert result.success, result.output
    return result


def frame(conn, schema, table, order="1"):
    cursor = conn.execute(f'select * from "{schema}"."{table}" order by {order}')
    names = [d.name for d in cursor.description]
    return pd.DataFrame([list(r) for r in cursor.fetchall()], columns=names, dtype=object)


def utc(value):
    """The rule's clock in Python: naive timestamps are UTC, dates are midnight UTC."""
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
    return value


def same(actual, expected):
    actual, expected = utc(actual), utc(expected)
    if actual is None or expected is None:
        return actual is None and expected is None
    if isinstance(expected, (float, int, Decimal)) and not isinstance(expected, bool):
        return math.isclose(float(actual), float(expected), rel_tol=1e-9, abs_tol=1e-12)
    return actual == expected


def assert_rows_equal(actual, expected, key):
    for _, row in actual.iterrows():
        want = expected[row[key]]
        wrong = {c: (row[c], want[c]) for c in want if not same(row[c], want[c])}
        assert not wrong, f"{key}={row[key]}: (sql, brute force) {wrong}"


def visible(rows, entity, t):
    """Rows of the entity true and known at t: event <= t and coalesce(known, event) <= t."""
    return rows[(rows["entity"] == entity) & rows["event"].notna() & (rows["event"] <= t) & (rows["known_eff"] <= t)]


def source_rows(conn, schema, seed, entity, event, known):
    rows = frame(conn, schema, seed)
    rows["entity"], rows["event"] = rows[entity], rows[event].map(utc)
    rows["known"] = rows[known].map(utc) if known else None
    rows["known_eff"] = rows["known"].where(rows["known"].notna(), rows["event"])
    return rows


def brute_as_of(conn, schema, spine, time):
    expected = {}
    sources = {p: (source_rows(conn, schema, *s[:4]), s[4]) for p, s in SOURCES.items()}
    for _, spine_row in spine.iterrows():
        t, want = utc(spine_row[time]), {}
        for prefix, (rows, columns) in sources.items():
            found = visible(rows, spine_row["customer_key"], t) if t is not None else rows.iloc[:0]
            # latest event, then latest known, then greatest values in column order, nulls last
            found = found.sort_values(["event", "known_eff", *columns], ascending=False, na_position="last")
            best = found.iloc[0] if len(found) else None
            for column in columns:
                want[prefix + column] = None if best is None else best[column]
            want[prefix + "event_time"] = None if best is None else best["event"]
            want[prefix + "known_at"] = None if best is None else best["known_eff"]
        expected[spine_row.iloc[0]] = want
    return expected


def aggregate(rows, function, column):
    if column is None:
        return len(rows)
    values = rows[column].dropna()
    values = values.map(lambda v: int(v) if isinstance(v, bool) and function not in ("min", "max", "bool_or")
                        else float(v) if isinstance(v, Decimal) else v)
    if function == "count":
        return len(values)
    if function == "count_distinct":
        return values.nunique()
    if values.empty:
        return None
    return {"sum": values.sum, "avg": values.mean, "min": values.min, "max": values.max, "bool_or": values.any,
            "stddev": lambda: values.astype(float).std(ddof=1) if len(values) > 1 else None}[function]()


def brute_trailing(conn, schema, spine, time, entity, group=None):
    events = source_rows(conn, schema, "pit_lead_events", "source", "created_at", "outcome_known_at")
    ties = list(dict.fromkeys(a["column"] for a in AGGREGATES if a.get("column")))
    expected = {}
    for _, spine_row in spine.iterrows():
        t = utc(spine_row[time])
        if t is None or spine_row[entity] is None:
            expected[spine_row.iloc[0]] = {a["name"]: None for a in AGGREGATES}
            continue
        rows = visible(events, spine_row[entity], t)
        rows = rows[(rows["event"] >= t - WINDOW) & (rows["event"] < t)]
        if group:  # each group value once: its latest row (event, known, aggregated values), NULL groups dropped
            rows = rows[rows[group].notna()].sort_values(["event", "known_eff", *ties], ascending=False,
                                                         na_position="last").drop_duplicates(group, keep="first")
        expected[spine_row.iloc[0]] = {a["name"]: aggregate(rows, a["function"], a.get("column")) for a in AGGREGATES}
    return expected


# --- ml_as_of_join ----------------------------------------------------------------------------------------------------

def test_as_of_join_equals_brute_force_for_every_spine_row(pit, project, dbt_conn):
    spine = frame(dbt_conn, project.schema, "pit_spine")
    actual = frame(dbt_conn, project.schema, "pit_balance_features")
    assert len(actual) == len(spine)
    assert_rows_equal(actual, brute_as_of(dbt_conn, project.schema, spine, "observed_at"), "spine_id")


def test_a_row_loaded_after_the_spine_time_is_never_returned(pit, project, dbt_conn):
    rows = frame(dbt_conn, project.schema, "pit_balance_features").set_index("spine_id")
    # customer 1: 200 has event_time 09:00 but was loaded at 11:00, so at 09:30 the value is the older 100
    assert rows.loc[1, "bal_balance"] == 100
    assert rows.loc[1, "bal_known_at"] == datetime(2024, 3, 1, 8, 5, tzinfo=timezone.utc)
    # customer 3: 70 (event 10:30) was loaded at 13:00+02 = 11:00 UTC: invisible at 10:45, visible at exactly 11:00
    assert (rows.loc[9, "bal_balance"], rows.loc[10, "bal_balance"]) == (50, 70)
    assert (rows["bal_known_at"].dropna() <= rows["observed_at"][rows["bal_known_at"].notna()]).all()


def test_ties_go_to_the_later_load_then_to_the_greatest_values(pit, project, dbt_conn):
    rows = frame(dbt_conn, project.schema, "pit_balance_features").set_index("spine_id")
    assert (rows.loc[6, "bal_balance"], rows.loc[6, "bal_tier"]) == (10, "x")  # only the 09:10 load is known at 09:15
    # four rows loaded at 09:20 for event 09:00: balance 20 beats 15 and NULL; 'w' beats 'Y' in byte order
    assert (rows.loc[7, "bal_balance"], rows.loc[7, "bal_tier"]) == (20, "w")


def test_a_null_spine_time_or_entity_gets_no_feature_values(pit, project, dbt_conn):
    rows = frame(dbt_conn, project.schema, "pit_balance_features").set_index("spine_id")
    features = [c for c in rows.columns if c.startswith(("bal_", "profile_"))]
    assert rows.loc[[12, 13], features].isna().all().all()  # 12: NULL customer, 13: NULL observed_at


def test_serving_join_equals_training_rows_at_as_of(pit, project, dbt_conn):
    serving = frame(dbt_conn, project.schema, "pit_balance_features_serving").set_index("customer_key", drop=False)
    training = frame(dbt_conn, project.schema, "pit_balance_features")
    at_as_of = training[training["observed_at"] == AS_OF]
    assert sorted(at_as_of["customer_key"]) == [1, 2, 3, 4] and (serving["as_of"] == AS_OF).all()
    for _, row in at_as_of.iterrows():
        for column in [c for c in serving.columns if c.startswith(("bal_", "profile_"))]:
            assert same(serving.loc[row["customer_key"], column], row[column]), (row["customer_key"], column)


# --- ml_trailing_aggregate --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("model,group", [("pit_lead_features", None), ("pit_lead_features_dedup", "lead_id")])
def test_trailing_aggregates_equal_brute_force_for_every_spine_row(pit, project, dbt_conn, model, group):
    spine = frame(dbt_conn, project.schema, "pit_lead_spine")
    actual = frame(dbt_conn, project.schema, model)
    assert len(actual) == len(spine)
    expected = brute_trailing(dbt_conn, project.schema, spine, "scored_at", "lead_source", group)
    assert_rows_equal(actual, expected, "spine_id")


def test_trailing_window_is_half_open_and_a_label_counts_from_when_it_is_known(pit, project, dbt_conn):
    rows = frame(dbt_conn, project.schema, "pit_lead_features").set_index("spine_id")
    # ads at 12:00: L7 at 09:00 (window start: in), L8 at 08:59:59 (out), L9 known at 12:00 (in),
    # L10 known at 12:00:01 (out)
    assert (rows.loc[7, "leads_3h"], rows.loc[7, "amount_sum_3h"]) == (2, 150)
    # web at 11:00: L3 (event 10:00, converted) is known only at 13:00; L4 at exactly 11:00 is not its own past
    assert rows.loc[1, "amount_max_3h"] == 20 and rows.loc[1, "last_event_at"] == datetime(2024, 3, 1, 10, 30)
    assert rows.loc[3, "amount_max_3h"] == 30  # at 13:00 the conversion of L3 is known


def test_empty_window_counts_zero_and_null_time_or_entity_gets_nulls(pit, project, dbt_conn):
    rows = frame(dbt_conn, project.schema, "pit_lead_features").set_index("spine_id")
    assert rows.loc[[4, 8, 9], ["leads_3h", "channels_3h"]].eq(0).all().all()
    assert rows.loc[[4, 8, 9], ["conversion_rate_3h", "amount_sum_3h"]].isna().all().all()
    assert rows.loc[[5, 6]].drop(columns=["lead_source", "scored_at"]).isna().all().all()


def test_serving_trailing_aggregates_equal_training_at_as_of(pit, project, dbt_conn):
    serving = frame(dbt_conn, project.schema, "pit_lead_features_serving").set_index("lead_source", drop=False)
    training = frame(dbt_conn, project.schema, "pit_lead_features")
    at_as_of = training[training["scored_at"] == AS_OF.replace(tzinfo=None)].dropna(subset=["lead_source"])
    assert sorted(at_as_of["lead_source"]) == ["ads", "none", "web"]
    for _, row in at_as_of.iterrows():
        for aggregate_ in AGGREGATES:
            name = aggregate_["name"]
            assert same(serving.loc[row["lead_source"], name], row[name]), (row["lead_source"], name)


# --- ml_no_future_leakage ---------------------------------------------------------------------------------------------

def test_leakage_tests_pass_on_every_macro_output(pit):
    leakage = [r for r in pit.results if r.node.resource_type == "test" and "no_future_leakage" in r.node.name]
    assert len(leakage) == 9
    assert {str(r.status) for r in leakage} == {"pass"}, [(r.node.name, str(r.status)) for r in leakage]


@pytest.fixture(scope="module")
def leaky(project, pit, dbt_conn):
    yield project.dbt("build", "-s", f"{MODELS},tag:expect_failure", "--vars", VARS)
    dbt_conn.execute(f'drop schema if exists "{project.schema}_dbt_test__audit" cascade')


def test_a_leaky_join_fails_the_leakage_test_and_the_stored_failures_name_the_rows(leaky, project, dbt_conn):
    name = "expect_fail_pit_leaky_balance_features_known_at"
    assert leaky.status(name) == "fail"
    table = next(r.node.relation_name for r in leaky.results if r.node.name == name)
    assert table in leaky.output  # dbt's output points at the stored failing rows
    failed = query(dbt_conn, f"select spine_id, leaked_column, leaked_by from {table} order by spine_id")
    # the hand-written join takes the latest event even when it was loaded after the spine time
    leaky_rows = frame(dbt_conn, project.schema, "pit_leaky_balance_features")
    leaked = leaky_rows[leaky_rows["bal_known_at"].map(utc) > leaky_rows["observed_at"].map(utc)]
    assert [r[0] for r in failed] == sorted(leaked["spine_id"]) == [1, 6, 9, 14]
    assert {r[1] for r in failed} == {"bal_known_at"}
    assert failed[0][2] == timedelta(hours=1, minutes=30)  # loaded 11:00, spine 09:30


# --- bad input: compilation errors naming the relation and the column; the leakage test's edge cases -----------------

BALANCES = ("{'relation': ref('pit_balances'), 'entity_column': 'customer_id', 'event_time_column': 'event_time', "
            "'known_at_column': 'loaded_at', 'columns': ['balance']}")


def _join(features=BALANCES, entity="customer_key", time="observed_at"):
    return (f"{{{{ dbt_learn.ml_as_of_join(ref('pit_spine'), '{entity}', time_column='{time}', "
            f"features=[{features}]) }}}}")


def _trail(aggregate="{'name': 'n', 'function': 'count'}", window="'3 hours'", time="created_at"):
    return ("{{ dbt_learn.ml_trailing_aggregate(ref('pit_lead_spine'), 'lead_source', time_column='scored_at', "
            f"events=ref('pit_lead_events'), event_entity_column='source', event_time_column='{time}', "
            f"window={window}, aggregates=[{aggregate}]) }}}}")


BAD_INPUT = {  # model: (its SQL, fragments its error must contain)
    "missing_feature_column": (_join(BALANCES.replace("'balance'", "'balanse'")),
                               ["ml_as_of_join(", "pit_balances", "features[0].columns 'balanse' is not a column"]),
    "missing_spine_entity": (_join(entity="customer"),
                             ["ml_as_of_join(", "pit_spine", "entity_column 'customer' is not a column"]),
    "misspelt_source_key": (_join(BALANCES.replace("'known_at_column'", "'known_at'")),
                            ["features[0] has an unknown key 'known_at'", "known_at_column"]),
    "two_sources_one_name": (_join(BALANCES + ", " + BALANCES), ["output column 'balance'", "features[1]", "prefix"]),
    "non_time_column": (_join(entity="spine_id", time="customer_key"),
                        ["time_column 'customer_key'", "has type integer"]),
    "missing_event_time": (_trail(time="created"),
                           ["ml_trailing_aggregate(", "pit_lead_events",
                            "event_time_column 'created' is not a column"]),
    "unknown_function": (_trail("{'name': 'm', 'function': 'median', 'column': 'amount'}"),
                         ["unknown function 'median'", "count, count_distinct, sum, avg, min, max, stddev, bool_or"]),
    "wrong_column_type": (_trail("{'name': 'a', 'function': 'avg', 'column': 'channel'}"),
                          ["pit_lead_events", "avg needs a numeric or boolean column; 'channel' is text"]),
    "bad_window": (_trail(window="'3 hourz'"), ["window '3 hourz' is not a positive interval"]),
    "zero_window": (_trail(window="'0 hours'"), ["window '0 hours' is not a positive interval"]),
    "sql_in_window": (_trail(window="\"3 hours') --\""), ["is not a positive interval"]),
}
LEAKAGE_CASES = """
select 1 as id, null::timestamp as observed_at, timestamptz '2024-03-01 10:00+00' as known_at
union all select 2, timestamp '2024-03-01 09:00', timestamptz '2024-03-01 09:00+00'
union all select 3, timestamp '2024-03-01 09:00', null
union all select 4, timestamp '2024-03-01 09:00', timestamptz '2024-03-01 10:30+01'
union all select 5, timestamp '2024-03-01 09:00', timestamptz '2024-03-01 08:30+00'
"""
LEAKAGE_YML = """
version: 2
models:
  - name: pit_tmp_leakage_cases
    columns:
      - name: known_at
        data_tests:
          - dbt_learn.ml_no_future_leakage: {name: pit_tmp_leak_fails, arguments: {spine_time_column: observed_at}}
          - dbt_learn.ml_no_future_leakage:
              {name: pit_tmp_leak_warns, arguments: {spine_time_column: observed_at}, config: {severity: warn}}
"""


@pytest.fixture(scope="module")
def temp_models(project, pit):
    """One dbt build of every bad-argument model and of the leakage cases (dbt compile would stop at one error)."""
    files = {f"models/pit_tmp/pit_bad_{name}.sql": sql for name, (sql, _) in BAD_INPUT.items()}
    files.update({"models/pit_tmp/pit_tmp_leakage_cases.sql": LEAKAGE_CASES,
                  "models/pit_tmp/pit_tmp_leakage.yml": LEAKAGE_YML})
    return project.dbt_with(files, "build", "-s", "path:models/pit_tmp", "--vars", VARS)  # same vars: partial parse


def test_leakage_test_reads_naive_times_as_utc_fails_a_null_spine_time_and_honours_severity(temp_models):
    failures = next(r.failures for r in temp_models.results if r.node.name == "pit_tmp_leak_fails")
    # 1: a value with a NULL spine time; 4: 10:30+01 is 09:30 UTC, half an hour after 09:00 UTC. 2, 3, 5 pass.
    assert temp_models.status("pit_tmp_leak_fails") == "fail" and failures == 2
    assert temp_models.status("pit_tmp_leak_warns") == "warn"


@pytest.mark.parametrize("case", BAD_INPUT)
def test_bad_arguments_are_compilation_errors_naming_relation_and_column(temp_models, case):
    assert temp_models.status(f"pit_bad_{case}") == "error"
    message = temp_models.message(f"pit_bad_{case}")
    for fragment in BAD_INPUT[case][1]:
        assert fragment in message, message


# --- the SQL itself: one clock, index probes, no PL/Python ------------------------------------------------------------

MODELS_COMPARED = ["pit_balance_features", "pit_balance_features_serving", "pit_lead_features",
                   "pit_lead_features_dedup", "pit_lead_features_serving"]


def _snapshot(conn, schema):
    return {m: [[utc(v) for v in row] for row in query(conn, f'select * from "{schema}"."{m}" order by 1, 2')]
            for m in MODELS_COMPARED}


def test_results_do_not_depend_on_the_session_time_zone(pit, project, dbt_conn):
    with connect() as conn:
        conn.execute("set timezone = 'Pacific/Chatham'")  # +13:45: a naive timestamp read in it would be far off
        assert _snapshot(conn, project.schema) == _snapshot(dbt_conn, project.schema)


def test_each_lookup_can_use_an_index_on_entity_and_event_time(pit, project):
    schema = project.schema
    with connect() as conn, conn.transaction(force_rollback=True):
        conn.execute(f"""create index pit_balances_probe on "{schema}".pit_balances
                         (customer_id, (event_time at time zone 'UTC'))""")
        conn.execute(f"""create index pit_lead_events_probe on "{schema}".pit_lead_events
                         (source, (created_at at time zone 'UTC'))""")
        conn.execute("set local enable_seqscan = off")
        for model, index in [("pit_balance_features", "pit_balances_probe"),
                             ("pit_lead_features", "pit_lead_events_probe")]:
            plan = "\n".join(r[0] for r in query(conn, f'explain select * from "{schema}".{model}'))
            assert f"Index Scan Backward using {index}" in plan or f"Index Scan using {index}" in plan, plan


def test_the_models_build_on_postgres_without_pl_python(pit, project, dbt_conn):
    plain = dict(connection_info(), dbname=connection_info()["dbname"] + "_plain")
    result = project.dbt("build", "-s", SEEDS, MODELS, "--exclude", "tag:expect_failure", "--vars", VARS,
                         "--target", "plain")
    with psycopg.connect(**plain, autocommit=True) as conn:
        try:
            assert result.success, result.output
            assert not query(conn, "select 1 from pg_language where lanname like 'plpython%'")
            assert _snapshot(conn, project.schema) == _snapshot(dbt_conn, project.schema)
        finally:
            conn.execute(f'drop schema if exists "{project.schema}" cascade')
