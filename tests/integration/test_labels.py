"""dbt_learn.ml_label_predictions joins a prediction log to late outcomes: one row per key with the prediction valid at
decision time, judged at a pinned moment (var dbt_learn_as_of). The fixtures are hand-made
(integration_tests/seeds/monitoring/labels/): labels_expected holds the answer at three moments, and the models in
integration_tests/models/monitoring/labels/ are built here at each of them."""

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest


MODELS = "path:models/monitoring/labels"
T1 = datetime(2024, 3, 2, 12, tzinfo=timezone.utc)   # lead 5 matures at this instant; leads 4 and 13 are pending
T2 = datetime(2024, 3, 3, 12, tzinfo=timezone.utc)   # the late outcomes of 4, 5, 7 and 13 have arrived
T3 = datetime(2024, 3, 10, tzinfo=timezone.utc)      # after everything, lead 12 included
JUST_BEFORE_T1 = T1 - timedelta(seconds=1)
SINCE = datetime(2024, 3, 1, 12, tzinfo=timezone.utc)  # labels_labelled_since


def utc(day, hour, minute=0):
    return datetime(2024, 3, day, hour, minute, tzinfo=timezone.utc)


@dataclass
class Snapshot:
    result: object
    labelled: dict   # (region, lead_id) -> row of labels_labelled
    since: dict      # (region, lead_id) -> row of labels_labelled_since
    by_lead: dict    # lead_id -> row of labels_labelled_by_lead


def _pin(as_of):
    return ["--vars", f"{{dbt_learn_as_of: '{as_of.isoformat()}'}}"]


def _rows(conn, schema, model, key):
    cursor = conn.execute(f'select * from "{schema}".{model}')
    names = [column.name for column in cursor.description]
    rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    keyed = {tuple(row[k] for k in key) if len(key) > 1 else row[key[0]]: row for row in rows}
    assert len(keyed) == len(rows), f"{model}: a key has more than one row"
    return keyed


def _read(project, conn, result):
    return Snapshot(result, _rows(conn, project.schema, "labels_labelled", ["region", "lead_id"]),
                    _rows(conn, project.schema, "labels_labelled_since", ["region", "lead_id"]),
                    _rows(conn, project.schema, "labels_labelled_by_lead", ["lead_id"]))


@pytest.fixture(scope="module")
def at(project, dbt_conn):
    """The labels models and their tests built with as_of pinned at T1, T2 and T3, and the models alone (no
    snapshot to compare with) one second before T1. The models are views: their rows are read after each build."""
    snapshots = {}
    for as_of in (JUST_BEFORE_T1, T1, T2, T3):
        result = project.dbt("run" if as_of == JUST_BEFORE_T1 else "build", "-s", MODELS, *_pin(as_of))
        assert result.results, result.output
        snapshots[as_of] = _read(project, dbt_conn, result)
    return snapshots


# --- the whole answer ---------------------------------------------------------------------------------------------

def test_the_session_build_labels_everything_known_by_now(project):
    # the session build runs at now(), after every fixture event: the answer is the last snapshot's
    for name in ["labels_labelled_equals_expected_at_as_of", "labels_labelled_one_row_per_key",
                 "unique_labels_labelled_by_lead_lead_id"]:
        assert project.build.status(name) == "pass", project.build.message(name)


@pytest.mark.parametrize("as_of", [T1, T2, T3], ids=["T1", "T2", "T3"])
def test_labelled_predictions_equal_the_hand_made_answer(at, as_of):
    result = at[as_of].result
    for name in ["labels_labelled_equals_expected_at_as_of", "labels_labelled_one_row_per_key"]:
        assert result.status(name) == "pass", result.message(name) + result.output


@pytest.mark.parametrize("as_of", [T1, T2, T3], ids=["T1", "T2", "T3"])
def test_the_answer_of_a_later_moment_is_not_known_yet(at, as_of):
    # negative test: the next snapshot (empty after T3) holds outcomes and predictions that do not exist yet
    assert at[as_of].result.status("expect_fail_labels_labelled_equals_next_snapshot") == "fail"


# --- one rule each ------------------------------------------------------------------------------------------------

def test_a_key_fired_twice_is_one_row_with_two_prediction_events(at):
    lead = at[T3].labelled[("north", 2)]
    assert lead["prediction_events"] == 2
    assert (lead["label_status"], lead["has_conflicting_outcomes"]) == ("labelled", False)  # two equal outcomes
    assert len(at[T3].labelled) == 12


def test_a_rescore_by_a_newer_version_keeps_the_prediction_made_at_decision_time(at):
    lead = at[T3].labelled[("north", 3)]  # v1 at 03-01 11:00 (false, 0.3), v2 at 03-02 08:00 (true, 0.7)
    assert (lead["model_version"], lead["prediction"], lead["probability_true"]) == (1, False, 0.3)
    assert (lead["decided_at"], lead["prediction_events"]) == (utc(1, 11), 2)


def test_log_rows_at_the_same_moment_resolve_to_the_older_version_then_by_scored_at(at):
    assert at[T3].labelled[("east", 11)]["model_version"] == 1  # v2 and v1 both at 14:00, v2 listed first
    # labels_labelled_by_lead decides on created_at: lead 10's rows tie on it; the scored one wins over NULL
    lead = at[T3].by_lead[10]
    assert (lead["model_version"], lead["prediction"], lead["prediction_events"]) == (1, False, 2)


def test_a_missing_outcome_becomes_negative_only_once_maturity_has_passed(at):
    # lead (south, 5) was decided at 03-01 12:00 with a maturity of 1 day
    before, boundary = at[JUST_BEFORE_T1].labelled[("south", 5)], at[T1].labelled[("south", 5)]
    assert (before["label_status"], before["label"], before["is_matured"]) == ("pending", None, False)
    assert (boundary["label_status"], boundary["label"], boundary["is_matured"]) == ("assumed_negative", False, True)


def test_a_late_outcome_is_invisible_until_it_arrives_and_then_replaces_the_assumption(at):
    pending = at[T1].labelled[("south", 4)]  # its outcome arrives 03-03 09:00
    assert (pending["label_status"], pending["outcome"], pending["outcome_at"]) == ("pending", None, None)
    arrived = at[T2].labelled[("south", 4)]
    assert (arrived["label_status"], arrived["label"], arrived["outcome_at"]) == ("labelled", True, utc(3, 9))
    # lead (south, 5): assumed negative at T1, its positive outcome (03-02 18:00, after maturity) counts at T2
    assert at[T1].labelled[("south", 5)]["label"] is False
    assert (at[T2].labelled[("south", 5)]["label"], at[T2].labelled[("south", 5)]["label_status"]) == (True, "labelled")
    # an outcome observed exactly at as_of is known
    assert at[T2].labelled[("north", 13)]["outcome_at"] == T2


def test_conflicting_outcomes_are_flagged_and_the_earliest_known_one_wins(at):
    both = at[T1].labelled[("south", 6)]  # true at 12:00, false at 13:00
    assert (both["outcome"], both["label"], both["has_conflicting_outcomes"]) == (True, True, True)
    # (south, 7): false at 03-01 18:00; a true arrives 03-03 10:00 - a conflict only once it is known
    assert (at[T1].labelled[("south", 7)]["has_conflicting_outcomes"], at[T1].labelled[("south", 7)]["label"]) \
        == (False, False)
    assert (at[T2].labelled[("south", 7)]["has_conflicting_outcomes"], at[T2].labelled[("south", 7)]["label"]) \
        == (True, False)


def test_an_outcome_before_its_decision_is_reported_without_a_label(at):
    lead = at[T3].labelled[("east", 8)]  # decided 12:00, outcome observed 11:00
    assert (lead["label_status"], lead["label"], lead["outcome"], lead["outcome_at"]) \
        == ("outcome_before_decision", None, True, utc(1, 11))
    same_instant = at[T3].labelled[("east", 12)]  # outcome at the decision's instant: after it, not before
    assert (same_instant["label_status"], same_instant["label"]) == ("labelled", True)


def test_rows_with_a_null_key_or_decision_time_are_dropped(at):
    keys = set(at[T3].labelled)
    assert all(None not in key for key in keys)
    assert ("east", 9) not in keys  # its only log row has no scored_at
    assert at[T3].labelled[("east", 10)]["prediction_events"] == 1  # its NULL-scored_at row is not counted
    # the rule is about the columns used: by created_at lead 9 is decided; keyed by lead_id alone, lead 14
    # (NULL region) is a key
    assert {9, 14} <= set(at[T3].by_lead) and None not in at[T3].by_lead


def test_outcomes_of_unknown_keys_and_null_outcome_rows_are_ignored(at):
    assert ("west", 99) not in at[T3].labelled
    assert at[T3].labelled[("north", 3)]["label_status"] == "assumed_negative"  # its only outcome row is NULL
    assert at[T3].labelled[("east", 11)]["outcome"] is None  # its only outcome row has no time


def test_a_prediction_made_after_as_of_does_not_exist_yet(at):
    assert ("east", 12) not in at[T2].labelled  # scored 03-04 10:00
    assert at[T3].labelled[("east", 12)]["decided_at"] == utc(4, 10)


def test_missing_outcome_unknown_leaves_matured_keys_unlabelled(at):
    assert at[T1].by_lead[13]["label_status"] == "pending"  # created 03-01 23:55
    lead = at[T3].by_lead[3]
    assert (lead["label_status"], lead["label"], lead["is_matured"]) == ("unlabelled", None, True)
    assert "assumed_negative" not in {row["label_status"] for row in at[T3].by_lead.values()}


def test_zoned_and_naive_times_are_read_on_one_utc_clock(at):
    labelled, by_lead = at[T3].labelled, at[T3].by_lead
    assert labelled[("south", 4)]["decided_at"] == utc(2, 6)    # '2024-03-02 08:00:00+02:00'
    assert labelled[("south", 5)]["decided_at"] == utc(1, 12)   # '2024-03-01 07:00:00-05:00'
    assert by_lead[1]["decided_at"] == utc(1, 8, 55)            # naive created_at, read as UTC
    # observed_at (naive) and observed_at_tz (offsets) hold the same instants
    for (_, lead_id), row in labelled.items():
        assert by_lead[lead_id]["outcome_at"] == row["outcome_at"], lead_id


@pytest.mark.parametrize("as_of", [T1, T2, T3], ids=["T1", "T2", "T3"])
def test_since_keeps_the_keys_decided_from_then_with_the_same_rows(at, as_of):
    snapshot = at[as_of]
    assert snapshot.since == {key: row for key, row in snapshot.labelled.items() if row["decided_at"] >= SINCE}
    # re-scored at 03-02 08:00, but decided before since: left out, not decided again by the re-score
    assert ("north", 3) not in snapshot.since
    assert ("south", 5) in snapshot.since  # decided exactly at since


# --- bad arguments: compile errors naming the model, the relation and the column -----------------------------------

def _call(**arguments):
    text = ", ".join(f"{name}={value}" for name, value in arguments.items())
    return ("{{ dbt_learn.ml_label_predictions(ref('labels_prediction_log'), ref('labels_outcomes'), "
            + text + ") }}")


BAD = {
    "labels_bad_key_not_in_outcomes": (_call(key="['lead_id', 'created_at']"),
                                       ["key column 'created_at' is not a column of outcomes", "labels_outcomes",
                                        "its columns are: region, lead_id, outcome"]),
    "labels_bad_outcome_column": (_call(key="'lead_id'", outcome_column="'converted'"),
                                  ["outcome_column 'converted' is not a column of outcomes"]),
    "labels_bad_decision_column": (_call(key="'lead_id'", decision_time_column="'decided'"),
                                   ["decision_time_column 'decided' is not a column of predictions",
                                    "labels_prediction_log"]),
    "labels_bad_decision_type": (_call(key="'lead_id'", decision_time_column="'region'"),
                                 ["decision_time_column 'region'", "has type text"]),
    "labels_bad_missing_outcome": (_call(key="'lead_id'", missing_outcome="'zero'"),
                                   ["missing_outcome must be 'unknown' or 'negative', got 'zero'"]),
    "labels_bad_negative_without_value": (_call(key="'lead_id'", maturity="'1 day'", missing_outcome="'negative'"),
                                          ["missing_outcome='negative' needs missing_outcome_value"]),
    "labels_bad_negative_without_maturity": (_call(key="'lead_id'", missing_outcome="'negative'",
                                                   missing_outcome_value="false"),
                                             ["missing_outcome='negative' needs maturity"]),
    "labels_bad_value_type": (_call(key="'lead_id'", maturity="'1 day'", missing_outcome="'negative'",
                                    missing_outcome_value="'maybe'"),
                              ["missing_outcome_value 'maybe' is not a boolean value",
                               "outcome_column 'outcome' in outcomes"]),
    "labels_bad_value_without_negative": (_call(key="'lead_id'", missing_outcome_value="false"),
                                          ["missing_outcome_value is only used with missing_outcome='negative'"]),
    "labels_bad_maturity": (_call(key="'lead_id'", maturity="\"1 day'; drop table x; --\""),
                            ["maturity '1 day'; drop table x; --' is not an interval"]),
    "labels_bad_maturity_unit": (_call(key="'lead_id'", maturity="'2 fortnights'"),
                                 ["maturity '2 fortnights' is not an interval"]),
    "labels_bad_since": (_call(key="'lead_id'", since="'yesterday'"), ["since 'yesterday' is not a timestamp"]),
    "labels_bad_key_type": ("{{ dbt_learn.ml_label_predictions(ref('labels_prediction_log'), "
                            "ref('labels_bad_text_keys'), key='lead_id') }}",
                            ["key column 'lead_id' is integer in predictions", "but text in outcomes"]),
    "labels_bad_key_name": (_call(key="['lead_id', 'prediction']"),
                            ["key column 'prediction' has the name of an output column"]),
    "labels_bad_relation": ("{{ dbt_learn.ml_label_predictions('labels_prediction_log', ref('labels_outcomes'), "
                            "key='lead_id') }}", ["predictions must be a relation"]),
}
TEXT_KEYS = "select lead_id::text as lead_id, outcome, observed_at from {{ ref('labels_outcomes') }}"


@pytest.fixture(scope="module")
def bad_run(project):
    files = {f"models/labels_bad/{name}.sql": text for name, (text, _) in BAD.items()}
    files["models/labels_bad/labels_bad_text_keys.sql"] = TEXT_KEYS
    return project.dbt_with(files, "run", "-s", "path:models/labels_bad")


@pytest.mark.parametrize("name", BAD, ids=list(BAD))
def test_bad_arguments_are_compile_errors_that_say_what_is_wrong(bad_run, name):
    assert bad_run.status(name) == "error"
    message = bad_run.message(name)
    # the time column's type is judged by the shared monitoring_time_sql, whose message names the argument instead
    prefix = [] if name == "labels_bad_decision_type" else [f"dbt_learn: ml_label_predictions({name}): "]
    for fragment in [*prefix, *BAD[name][1]]:
        assert fragment in message, message
