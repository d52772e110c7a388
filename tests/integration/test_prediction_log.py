"""Prediction log (issue 9, item 1): ml_score inside an incremental model appends, on each run, the scores of the rows
the log does not hold yet for the version it scores with (ids matched null-safely), so a repeated run appends
nothing; a new version scores every row again once; changed_column rescores rows changed since; full_refresh=false
keeps the history through --full-refresh; bad configurations are compile errors naming the log and the column.

Each log reads its own copy of the log_leads seed. dbt takes seconds to start, so the logs run together, one dbt run
per moment T1..T4 (the var dbt_learn_as_of, which becomes scored_at), and the tests read the snapshots taken after
each moment."""

import json
import re
from collections import Counter
from datetime import datetime, timezone

import pytest
from psycopg.rows import dict_row

from .conftest import latest_version, query

T1, T2, T3, T4 = (datetime(2026, 11, 2, hour, tzinfo=timezone.utc) for hour in (8, 9, 10, 11))
SEED_ROWS = 8  # integration_tests/seeds/monitoring/log/log_leads.csv
LOG = """{{{{ config(materialized='incremental', incremental_strategy='append',
                   on_schema_change='append_new_columns'{options}) }}}}
select {select} from {{{{ dbt_learn.ml_score({model},
    api.Relation.create(database=target.database, schema='{schema}', identifier='{table}'), {arguments}) }}}}
"""
TRAINED = """{{{{ config(materialized='ml_train', meta={{'target': 'label', 'algorithm': 'decision_tree_classifier',
                                                  'id_columns': ['id'], 'holdout_size': 0}}) }}}}
select * from "{schema}"."{table}"
"""
# name: log options (model: a trained model of the test's own, else label_model)
LOGS = {
    "plog_plain": {},
    "plog_changed": {"changed_column": "updated_at"},
    "plog_versions": {"model": "ref('plog_versions_model')"},
    "plog_keep": {"full_refresh": False},
    "plog_rebuild": {"full_refresh": None},
    "plog_empty": {"changed_column": "updated_at"},
}
NEW_LEAD = "insert into {table} (lead_id, created_at, a, b) values (7, '2026-11-02 08:30', 3, 8)"
BEFORE_T2 = {
    # lead 7, an event without lead_id, and lead 1's event once more (its ids are logged already)
    "plog_plain": ["""insert into {table} (lead_id, created_at, a, b) values (7, '2026-11-02 08:30', 3, 8),
                      (null, '2026-11-02 08:40', 5, 1), (1, '2026-11-01 09:00', 2, 5)"""],
    "plog_changed": ["update {table} set updated_at = updated_at + interval '1 hour' where lead_id = 1",  # newer
                     "update {table} set updated_at = updated_at - interval '1 hour' where lead_id = 2",  # older
                     "update {table} set updated_at = '2026-11-02 07:00+00' where lead_id = 5"],  # NULL -> a value
    # v2 learns a third class
    "plog_versions_model": ["update {table} set label = 'medium' where id % 4 = 0"],
    "plog_keep": ["delete from {table} where lead_id = 2", NEW_LEAD],
    "plog_rebuild": ["delete from {table} where lead_id = 2"],
}


def _log_sql(schema, table, model="ref('label_model')", full_refresh=False, select="*", **arguments):
    arguments = {"id_columns": ["lead_id", "created_at"], **arguments}
    return LOG.format(options="" if full_refresh is None else f", full_refresh={str(full_refresh).lower()}",
                      select=select, model=model, schema=schema, table=table,
                      arguments=", ".join(f"{key}={value!r}" for key, value in arguments.items()))


class Timeline:
    """The module's logs in the session's project: dbt runs at a moment, their sources' changes, their rows."""

    def __init__(self, project, conn):
        self.project, self.conn, self.schema = project, conn, project.schema
        self.files, self.rows, self.results = [], {}, {}

    def table(self, name):
        return f'"{self.schema}"."{name}_rows"'

    def write(self, name, text):
        self.files.append(f"models/log_tmp/{name}.sql")
        self.project.write(self.files[-1], text)

    def run(self, moment, names, *extra):
        result = self.project.dbt("run", "-s", *names, "--vars",
                                  json.dumps({"dbt_learn_as_of": moment.isoformat()}), *extra)
        assert result.success, result.output
        for name in names:
            self.results[moment, name] = result
            if name in LOGS:
                self.rows[moment, name] = self.log_rows(name)

    def change(self, name, *statements):
        for sql in statements:
            self.conn.execute(sql.format(table=self.table(name)))

    def log_rows(self, name):
        with self.conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(f'select * from "{self.schema}"."{name}" order by lead_id nulls first, '
                                  'created_at nulls first, model_version, scored_at').fetchall()

    def remove(self):
        for path in self.files:
            self.project.remove(path)


@pytest.fixture(scope="module")
def timeline(project, dbt_conn):
    line = Timeline(project, dbt_conn)
    for name, options in LOGS.items():
        dbt_conn.execute(f'create table {line.table(name)} as select * from "{project.schema}".log_leads')
        line.write(name, _log_sql(project.schema, f"{name}_rows", **options))
    dbt_conn.execute(f'create table {line.table("plog_versions_model")} as '
                     f'select * from "{project.schema}".labels_training')
    line.write("plog_versions_model", TRAINED.format(schema=project.schema, table="plog_versions_model_rows"))
    line.change("plog_empty", "delete from {table}")

    line.run(T1, ["plog_versions_model", *LOGS])
    for name, statements in BEFORE_T2.items():
        line.change(name, *statements)
    line.run(T2, ["plog_plain", "plog_changed", "plog_versions_model", "plog_versions", "plog_empty"])
    line.run(T2, ["plog_keep", "plog_rebuild"], "--full-refresh")
    line.change("plog_empty", NEW_LEAD)
    line.run(T3, ["plog_plain", "plog_changed", "plog_versions", "plog_rebuild", "plog_empty"])
    line.compiled_changed = next((project.root / "target" / "compiled").rglob("plog_changed.sql")).read_text()
    # deploying v1 back: it has scored every row already, so only a new row is to be scored
    deployed = project.dbt("run-operation", "dbt_learn.deploy", "--args",
                           json.dumps({"model": "plog_versions_model", "version": 1}))
    assert deployed.success, deployed.output
    line.change("plog_versions", NEW_LEAD)
    line.run(T4, ["plog_versions"])
    yield line
    line.remove()


def _keys(rows, *columns):
    """The multiset of (lead_id, created_at, *columns) of log rows."""
    return Counter((row["lead_id"], row["created_at"], *(row[c] for c in columns)) for row in rows)


def _at(rows, moment):
    return [row for row in rows if row["scored_at"] == moment]


def _source_keys(conn, table):
    return Counter(tuple(row) for row in query(conn, f"select lead_id, created_at from {table}"))


LEAD_7 = (7, datetime(2026, 11, 2, 8, 30))


# --- the fixture logs of the session build ----------------------------------------------------------------------------

def test_the_first_build_logs_every_row_once_with_the_serving_version(project, dbt_conn):
    schema = project.schema
    assert project.build.status("lead_scores_log") == "success", project.build.message("lead_scores_log")
    features = query(dbt_conn, "select features from dbt_learn.model_versions where model_schema = %s and "
                     "model_name = 'label_model'", [schema])[0][0]
    row_level = ", ".join(f's."{f["name"]}"::float8' for f in features)  # predict_class: features in training order
    expected = Counter(tuple(row) for row in query(dbt_conn, f"""
        select s.lead_id, s.created_at, dbt_learn.predict_class(%s, 'label_model', {row_level})
        from "{schema}".log_leads as s""", [schema]))
    logged = query(dbt_conn, f'select lead_id, created_at, prediction, model_version from "{schema}".lead_scores_log')
    assert Counter(row[:3] for row in logged) == expected  # NULL ids and lead 3's duplicate event included
    assert sum(expected.values()) == SEED_ROWS
    assert {row[3] for row in logged} == {latest_version(dbt_conn, schema, "label_model")}


def test_changed_column_is_carried_next_to_the_ids(project, dbt_conn):
    assert project.build.status("lead_scores_log_changed") == "success"
    columns = [d.name for d in dbt_conn.execute(f'select * from "{project.schema}".lead_scores_log_changed limit 0')
               .description]
    assert columns == ["lead_id", "created_at", "updated_at", "prediction", "probability_high", "probability_low",
                       "model_version", "scored_at"]


def test_predict_batch_of_zero_rows_and_null_features_returns_no_predictions(project, dbt_conn):
    version = latest_version(dbt_conn, project.schema, "label_model")
    assert query(dbt_conn, "select * from dbt_learn.predict_batch(%s, 'label_model', %s, 0, null, null)",
                 [project.schema, version]) == []


# --- runs of a log ----------------------------------------------------------------------------------------------------

def test_the_first_run_scores_every_row_at_the_runs_as_of_moment(timeline, dbt_conn):
    rows = timeline.rows[T1, "plog_plain"]
    assert _keys(rows) == _source_keys(dbt_conn, f'"{timeline.schema}".log_leads')
    assert {row["scored_at"] for row in rows} == {T1}


def test_a_repeated_run_appends_nothing(timeline):
    assert timeline.rows[T3, "plog_plain"] == timeline.rows[T2, "plog_plain"]
    response = next(r.adapter_response for r in timeline.results[T3, "plog_plain"].results
                    if r.node.name == "plog_plain")
    assert response["rows_affected"] == 0


def test_only_rows_not_yet_logged_are_appended(timeline):
    rows = timeline.rows[T2, "plog_plain"]
    assert _at(rows, T1) == timeline.rows[T1, "plog_plain"]
    # lead 1's event came again, but this version has logged its ids: it is not scored twice
    assert _keys(_at(rows, T2)) == Counter({LEAD_7: 1, (None, datetime(2026, 11, 2, 8, 40)): 1})


def test_a_newly_deployed_version_scores_every_row_again_once(timeline, dbt_conn):
    rows = timeline.rows[T2, "plog_versions"]
    assert Counter((row["model_version"], row["scored_at"]) for row in rows) == {(1, T1): SEED_ROWS, (2, T2): SEED_ROWS}
    assert _keys(_at(rows, T2)) == _keys(_at(rows, T1)) == _source_keys(dbt_conn, f'"{timeline.schema}".log_leads')
    assert timeline.rows[T3, "plog_versions"] == rows
    # v2's new class added its probability column (on_schema_change='append_new_columns'); v1's rows hold NULL
    assert [row["probability_medium"] is None for row in rows] == [row["model_version"] == 1 for row in rows]


def test_deploying_back_a_version_scores_only_rows_it_has_not_scored(timeline):
    appended = _at(timeline.rows[T4, "plog_versions"], T4)
    assert [(row["lead_id"], row["model_version"]) for row in appended] == [(7, 1)]


def test_changed_column_rescores_rows_whose_value_grew_since_they_were_logged(timeline):
    rows = timeline.rows[T2, "plog_changed"]
    assert _keys(_at(rows, T2), "updated_at") == Counter({
        (1, datetime(2026, 11, 1, 9), datetime(2026, 11, 1, 10, tzinfo=timezone.utc)): 1,
        (5, datetime(2026, 11, 1, 9, 25), datetime(2026, 11, 2, 7, tzinfo=timezone.utc)): 1})
    assert len(_at(rows, T1)) == SEED_ROWS
    assert timeline.rows[T3, "plog_changed"] == rows


def test_full_refresh_keeps_the_history_of_a_log_with_full_refresh_false(timeline):
    rows = timeline.rows[T2, "plog_keep"]
    assert _at(rows, T1) == timeline.rows[T1, "plog_keep"]  # lead 2's row included, though its source row is gone
    assert _keys(_at(rows, T2)) == Counter({LEAD_7: 1})


def test_full_refresh_rebuilds_a_log_without_full_refresh_false(timeline, dbt_conn):
    rows = timeline.rows[T2, "plog_rebuild"]
    assert {row["scored_at"] for row in rows} == {T2}  # the history is gone: each current row scored once, now
    assert _keys(rows) == _source_keys(dbt_conn, timeline.table("plog_rebuild")) and len(rows) == SEED_ROWS - 1
    assert timeline.rows[T3, "plog_rebuild"] == rows  # the next ordinary run is incremental again


def test_an_empty_relation_builds_an_empty_log_and_an_empty_increment_appends_nothing(timeline):
    assert timeline.rows[T1, "plog_empty"] == []
    assert timeline.rows[T2, "plog_empty"] == []  # incremental over zero rows: no batch, the model is not loaded
    assert [(row["lead_id"], row["updated_at"], row["scored_at"]) for row in timeline.rows[T3, "plog_empty"]] \
        == [(7, None, T3)]


def test_the_filter_is_one_anti_join_within_the_single_read_of_the_relation(timeline, dbt_conn):
    # ml_score hands the rows' query to dbt_learn.score_relation, which reads it through a cursor: explain that query.
    literal = re.search(r"score_relation\(\s*'(?:[^']|'')*',\s*'(?:[^']|'')*',\s*\d+,\s*'((?:[^']|'')*)'",
                        timeline.compiled_changed)
    plan = query(dbt_conn, f"explain (format json) {literal.group(1).replace(chr(39) * 2, chr(39))}")[0][0][0]["Plan"]
    nodes = list(_plan_nodes(plan))
    scans = Counter(node.get("Relation Name") for node in nodes)
    assert scans["plog_changed_rows"] == 1 and scans["plog_changed"] == 1  # the relation is read once, the log once
    anti = [node["Node Type"] for node in nodes if node.get("Join Type") == "Anti"]
    assert anti in (["Hash Join"], ["Merge Join"])  # not a nested loop: the null-safe match is hashable


def _plan_nodes(node):
    yield node
    for child in node.get("Plans", []):
        yield from _plan_nodes(child)


# --- bad configurations -----------------------------------------------------------------------------------------------

# case: (log options of a first successful run or None, log options that must fail, fragments of the message)
BAD_LOGS = {
    "changed_column_not_in_relation": (None, {"changed_column": "modified_at"},
                                       ["changed_column 'modified_at' is not a column of", "updated_at"]),
    "id_column_not_in_relation": (None, {"id_columns": ["lead_id", "event_id"]},
                                  ["id column 'event_id' is not a column of", "plog_bad_rows", "label_model"]),
    "changed_column_is_an_id": (None, {"changed_column": "created_at"},
                                ["changed_column 'created_at' is also an id column"]),
    "no_id_columns": (None, {"id_columns": []}, ["needs id columns", "id_columns=[...]"]),
    "id_column_not_in_log": ({"id_columns": ["lead_id"]}, {},
                             ["column 'created_at' is not a column of the prediction log"]),
    "changed_column_not_in_log": ({}, {"changed_column": "updated_at"},
                                  ["changed_column 'updated_at' is not a column of the prediction log"]),
    "model_version_not_in_log": ({"select": "lead_id, created_at, prediction"},
                                 {"select": "lead_id, created_at, prediction"},
                                 ["column 'model_version' is not a column of the prediction log"]),
    "id_type_changed": ({}, {"retyped": True}, ["column 'created_at' is timestamp with time zone in",
                                                "but timestamp without time zone in the prediction log"]),
}


@pytest.fixture(scope="module")
def bad_logs(project, dbt_conn):
    """Every BAD_LOGS log built first as its good version (where it has one), then run as the bad one, in two runs."""
    schema, names = project.schema, {case: f"plog_bad_{case}" for case in BAD_LOGS}
    dbt_conn.execute(f'create table "{schema}".plog_bad_rows as select * from "{schema}".log_leads')
    dbt_conn.execute(f'create table "{schema}".plog_bad_retyped as select lead_id, created_at::timestamptz as '
                     f'created_at, a, b, updated_at from "{schema}".log_leads')

    def write(case, options):
        table = "plog_bad_retyped" if options.pop("retyped", False) else "plog_bad_rows"
        project.write(f"models/log_tmp/{names[case]}.sql", _log_sql(schema, table, **options))

    first = [case for case, (good, _, _) in BAD_LOGS.items() if good is not None]
    for case in first:
        write(case, dict(BAD_LOGS[case][0]))
    built = project.dbt("run", "-s", *(names[case] for case in first))
    assert built.success, built.output
    for case, (_, bad, _) in BAD_LOGS.items():
        write(case, dict(bad))
    yield names, project.dbt("run", "-s", *names.values())
    for name in names.values():
        project.remove(f"models/log_tmp/{name}.sql")


@pytest.mark.parametrize("case", BAD_LOGS, ids=list(BAD_LOGS))
def test_a_bad_log_configuration_is_a_compile_error_naming_the_log_and_the_column(bad_logs, case):
    names, result = bad_logs
    assert result.status(names[case]) == "error"
    message = result.message(names[case])
    for fragment in [f"dbt_learn: ml_score({names[case]})", *BAD_LOGS[case][2]]:
        assert fragment in message, message
