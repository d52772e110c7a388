"""meta.retrain_on closes the loop: when the newest period of a named monitor crosses a threshold, the next run of the
ml_train model trains a new version whatever retrain_policy says, with the reason in the dbt log and in the registry;
a period is acted on once; a missing monitor is a note; bad rules are errors that say what to do."""

import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from .conftest import query

MODEL = """
{{{{ config(materialized='ml_train', meta={meta}) }}}}
select * from "{schema}"."{table}"
"""
START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def hour(n):
    """The monitoring clock of these tests: n hours after 2026-01-01 00:00 UTC, as ISO 8601."""
    return (START + timedelta(hours=n)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _log(result):
    return "\n".join(m for m in result.messages if "dbt_learn" in m)


@pytest.fixture
def retrain(project, dbt_conn, request):
    """A model of its own per test, on a table of its own, and a monitor table the test fills period by period."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:6]
    name = f"{request.node.name.split('[')[0].replace('test_', 'rt_')[:30]}_{digest}"
    schema = project.schema
    dbt_conn.execute(f'create table "{schema}"."{name}_rows" as select * from "{schema}".linear_training')

    class Retrain:
        model = name
        monitor = f"{name}_monitor"

        def write(self, **meta):
            meta = {"target": "y", "algorithm": "ridge", "id_columns": ["id"], **meta}
            project.write(f"models/retrain_tmp/{name}.sql",
                          MODEL.format(meta=meta, schema=schema, table=f"{name}_rows"))

        def run(self, at_hour, *extra):
            return project.dbt("run", "-s", name, "--vars", json.dumps({"dbt_learn_as_of": hour(at_hour)}), *extra)

        def create_monitor(self, columns):
            dbt_conn.execute(f'create table "{schema}"."{self.monitor}" ({columns})')

        def add_period(self, rows):
            for row in rows:
                placeholders = ", ".join(["%s"] * len(row))
                dbt_conn.execute(f'insert into "{schema}"."{self.monitor}" values ({placeholders})', row)

        def versions(self):
            return query(dbt_conn, "select version, training_reason, trained_as_of from dbt_learn.model_versions "
                         "where model_schema = %s and model_name = %s order by version", [schema, name])

        def reasons(self):
            return [row[1] for row in self.versions()]

        def change_data(self):
            dbt_conn.execute(f'update "{schema}"."{name}_rows" set y = y + 0.5 where id % 2 = 0')

    yield Retrain()
    project.remove(f"models/retrain_tmp/{name}.sql")


def test_a_drift_breach_trains_a_new_version_once_with_the_reason_in_the_log_and_the_registry(retrain):
    retrain.create_monitor("bucket_start timestamptz, feature text, psi float8, band text")
    retrain.add_period([(hour(-24), "x1", 0.9, "significant")])  # before v1 was trained: never acted on
    retrain.write(retrain_on=[{"monitor": retrain.monitor, "metric": "psi", "max_value": 0.25}])
    assert retrain.run(0).success and retrain.reasons() == ["first version"]

    retrain.add_period([(hour(1), "x1", 0.10, "moderate"), (hour(1), "x2", 0.25, "significant")])  # at, not above
    kept = retrain.run(2)
    assert kept.success and retrain.reasons() == ["first version"]
    assert "no training: training data and configuration unchanged since v1" in _log(kept)

    retrain.add_period([(hour(2), "x1", 0.41, "significant"), (hour(2), "x2", 0.05, "stable")])
    breached = retrain.run(3)
    reason = (f"monitor {retrain.monitor}: psi=0.41 > max_value 0.25 at bucket_start 2026-01-01T02:00:00Z "
              f"(feature=x1, band=significant, 1 of 2 rows)")
    assert breached.success
    assert f"dbt_learn: trained {retrain.model} v2 " in _log(breached)
    assert f"training reason: {reason}" in _log(breached)
    assert retrain.reasons() == ["first version", reason]
    assert retrain.versions()[1][2] == START + timedelta(hours=3)  # trained_as_of: the run's dbt_learn_as_of

    again = retrain.run(4)  # the same period: already acted on by v2
    assert again.success and len(retrain.versions()) == 2
    assert "unchanged since v2" in _log(again)

    retrain.add_period([(hour(4), "x1", 0.30, "significant")])  # a new period after v2: new evidence
    assert retrain.run(5).success
    assert retrain.reasons()[2].startswith(f"monitor {retrain.monitor}: psi=0.3 > max_value 0.25 at bucket_start "
                                           f"2026-01-01T04:00:00Z")


def test_a_performance_floor_filtered_by_where_waits_out_its_cooldown(retrain):
    retrain.create_monitor('window_end timestamp, "window" text, roc_auc numeric, n_labelled int')
    # One rule may be given without the list; window_end (timestamp without time zone, read as UTC) is the default.
    retrain.write(retrain_on={"monitor": retrain.monitor, "metric": "roc_auc", "min_value": 0.8,
                              "where": {"window": "7 days"}, "cooldown": "1 day"})
    assert retrain.run(0).success

    retrain.add_period([(hour(10), "7 days", 0.5, 40)])  # within the cooldown: the windows still hold v0 rows
    retrain.add_period([(hour(30), "1 day", 0.6, 9), (hour(30), "7 days", 0.85, 60)])  # '1 day' is not watched
    kept = retrain.run(31)
    assert kept.success and len(retrain.versions()) == 1, _log(kept)

    retrain.add_period([(hour(40), "1 day", 0.9, 9), (hour(40), "7 days", 0.7, 70)])
    assert retrain.run(41).success
    assert retrain.reasons()[1] == (f"monitor {retrain.monitor}: roc_auc=0.7 < min_value 0.8 at window_end "
                                    f"2026-01-02T16:00:00Z (window=7 days)")


def test_a_breach_overrides_the_interval_policy_and_a_missing_monitor_is_only_a_note(retrain, project):
    retrain.create_monitor("bucket_start date, psi double precision")
    missing = f"{retrain.model}_nowhere"
    retrain.write(retrain_policy="interval", retrain_interval="30 days", retrain_on=[
        {"monitor": missing, "metric": "psi", "max_value": 0.25},
        {"monitor": retrain.monitor, "metric": "psi", "max_value": 0.25, "time_column": "bucket_start"}])
    first = retrain.run(0)
    assert first.success
    note = (f"dbt_learn: {retrain.model}: note: retrain_on monitor {missing} does not exist yet (looked for "
            f"{project.schema}.{missing}); not checked this run")
    assert note in _log(first)

    retrain.add_period([("2026-01-02", 0.5)])
    breached = retrain.run(48)
    assert breached.success and note in _log(breached)
    assert retrain.reasons()[1] == (f"monitor {retrain.monitor}: psi=0.5 > max_value 0.25 at bucket_start "
                                    f"2026-01-02T00:00:00Z")
    kept = retrain.run(49)
    assert kept.success and len(retrain.versions()) == 2
    assert "v2 was trained less than 30 days ago" in _log(kept)


def test_adding_retrain_on_does_not_change_the_configuration_fingerprint(retrain):
    retrain.write()
    assert retrain.run(0).success
    retrain.write(retrain_on=[{"monitor": f"{retrain.model}_nowhere", "metric": "psi", "max_value": 0.25}])
    kept = retrain.run(1)
    assert kept.success and len(retrain.versions()) == 1
    assert "unchanged since v1" in _log(kept)


def test_ordinary_trainings_record_why_they_trained(retrain):
    retrain.write()
    retrain.run(0)
    retrain.change_data()
    changed = retrain.run(1)
    assert "training reason: training data changed since v1" in _log(changed)
    retrain.write(params={"alpha": 2.0})
    retrain.run(2)
    retrain.run(3, "--full-refresh")
    retrain.write(params={"alpha": 2.0}, retrain_policy="always")
    retrain.run(4)
    retrain.write(params={"alpha": 2.0}, retrain_policy="interval", retrain_interval="0 seconds")
    retrain.run(5)
    assert retrain.reasons() == [
        "first version", "training data changed since v1", "configuration changed since v2", "full refresh",
        "retrain_policy always", "retrain_policy interval: no version trained within 0 seconds"]


def test_the_loop_closes_through_dbt_build(project, dbt_conn):
    """integration_tests/models/monitoring/retrain: model -> scores -> a monitor of their error, named in retrain_on.
    The session's build trained v1 before the monitor existed (a note), then built the monitor."""
    assert "note: retrain_on monitor retrain_monitor does not exist yet" in _log(project.build)
    select = ["build", "-s", "path:models/monitoring/retrain"]

    def versions():
        return query(dbt_conn, "select version, training_reason from dbt_learn.model_versions "
                     "where model_schema = %s and model_name = 'retrain_model' order by version", [project.schema])

    assert versions() == [(1, "first version")]
    within = project.dbt(*select)
    assert within.success and len(versions()) == 1, within.output

    breach = ["--vars", json.dumps({"retrain_fixture_max_mae": 0, "dbt_learn_as_of": "2030-01-01T00:00:00Z"})]
    breached = project.dbt(*select, *breach)
    assert breached.success, breached.output
    reason = versions()[1][1]
    assert reason.startswith("monitor retrain_monitor: mae=") and " > max_value 0 at window_end " in reason
    assert f"training reason: {reason}" in _log(breached)
    monitor = query(dbt_conn, f'select window_end, model_version from "{project.schema}".retrain_monitor_by_run')
    assert monitor == [(datetime(2030, 1, 1, tzinfo=timezone.utc), 2)]

    again = project.dbt(*select, *breach)  # the monitor now reports v2's period, stamped at v2's training moment
    assert again.success and len(versions()) == 2


# Rules that are wrong in themselves fail when the options are read; rules that do not fit their monitor fail when it
# is read (a version exists). Either way nothing is trained.
BAD_RULES = {
    "not_a_list": ("monitor_table", "meta.retrain_on must be a list of rules, got \"monitor_table\""),
    "no_monitor": ([{"metric": "psi", "max_value": 0.25}], "meta.retrain_on[0].monitor is required"),
    "qualified_monitor": ([{"monitor": "analytics.drift", "metric": "psi", "max_value": 0.25}],
                          "meta.retrain_on[0].monitor 'analytics.drift': give the relation's name only"),
    "no_threshold": ([{"monitor": "{monitor}", "metric": "psi"}], "needs a threshold: max_value"),
    "quoted_number": ([{"monitor": "{monitor}", "metric": "psi", "max_value": "0.25"}],
                      "meta.retrain_on[0].max_value must be a number, got \"0.25\"; write it without quotes"),
    "unknown_key": ([{"monitor": "{monitor}", "metric": "psi", "max": 0.25}],
                    "meta.retrain_on[0]: unknown key 'max'; did you mean max_value? The keys of a rule are: monitor, "
                    "metric, max_value"),
    "min_above_max": ([{"monitor": "{monitor}", "metric": "psi", "min_value": 0.5, "max_value": 0.25}],
                      "min_value 0.5 is above max_value 0.25"),
    "bad_cooldown": ([{"monitor": "{monitor}", "metric": "psi", "max_value": 0.25, "cooldown": "a week"}],
                     "meta.retrain_on[0].cooldown must be an interval like '7 days'"),
    "where_list": ([{"monitor": "{monitor}", "metric": "psi", "max_value": 0.25, "where": ["feature"]}],
                   "meta.retrain_on[0].where must be a mapping of monitor columns"),
    "where_nested": ([{"monitor": "{monitor}", "metric": "psi", "max_value": 0.25, "where": {"feature": {"a": 1}}}],
                     "meta.retrain_on[0].where: 'feature' must map to a value or a list of values"),
    "no_metric_column": ([{"monitor": "{monitor}", "metric": "auc", "max_value": 0.25}],
                         "metric column 'auc' not found; its columns are: bucket_start, feature, psi, band"),
    "text_metric": ([{"monitor": "{monitor}", "metric": "band", "max_value": 0.25}],
                    "metric column 'band' has type text; a retrain_on metric must be a number"),
    "text_time": ([{"monitor": "{monitor}", "metric": "psi", "max_value": 0.25, "time_column": "feature"}],
                  "time column 'feature' has type text; it must be a timestamptz, timestamp (read as UTC) or date"),
    "no_time_column": ([{"monitor": "{untimed}", "metric": "psi", "max_value": 0.25}],
                       "no time column; set meta.retrain_on[0].time_column"),
    "no_where_column": ([{"monitor": "{monitor}", "metric": "psi", "max_value": 0.25, "where": {"window": "1 day"}}],
                        "where column 'window' not found"),
}


@pytest.fixture(scope="module")
def bad_rules(project, dbt_conn):
    """One model per bad rule, trained once with a good configuration, then run together with the bad rules (and a
    changed alpha, so any run that got through would add a version)."""
    schema = project.schema
    monitor, untimed = "rt_bad_monitor", "rt_bad_untimed"
    dbt_conn.execute(f'create table "{schema}".{monitor} '
                     f'(bucket_start timestamptz, feature text, psi float8, band text)')
    dbt_conn.execute(f'create table "{schema}".{untimed} (observed_at timestamptz, psi float8)')
    names = {case: f"rt_bad_{case}" for case in BAD_RULES}

    def write(rules):
        for case, name in names.items():
            meta = {"target": "y", "algorithm": "ridge", "id_columns": ["id"]}
            if rules:
                shown = json.dumps(BAD_RULES[case][0]).replace("{monitor}", monitor).replace("{untimed}", untimed)
                meta.update(retrain_on=json.loads(shown), params={"alpha": 2.0})
            project.write(f"models/retrain_tmp/{name}.sql",
                          MODEL.format(meta=meta, schema=schema, table="linear_training"))

    write(rules=False)
    assert project.dbt("run", "-s", *names.values()).success
    write(rules=True)
    result = project.dbt("run", "-s", *names.values())
    yield names, result
    for name in names.values():
        project.remove(f"models/retrain_tmp/{name}.sql")


@pytest.mark.parametrize("case", list(BAD_RULES))
def test_bad_rules_are_clear_errors_and_train_nothing(bad_rules, dbt_conn, project, case):
    names, result = bad_rules
    name = names[case]
    assert result.status(name) == "error"
    assert BAD_RULES[case][1] in result.message(name)
    assert f"dbt_learn: model '{name}'" in result.message(name)
    versions = query(dbt_conn, "select version from dbt_learn.model_versions where model_schema = %s "
                     "and model_name = %s", [project.schema, name])
    assert versions == [(1,)]
