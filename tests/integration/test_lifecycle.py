"""Retrain policies, deployment strategies, deploy/rollback/purge operations and evaluation options."""

import hashlib

import pytest

from .conftest import query

MODEL = """
{{{{ config(materialized='ml_train', meta={meta}) }}}}
select * from "{schema}"."{table}"
"""


@pytest.fixture
def lifecycle(project, dbt_conn, request):
    """A model of its own per test, on a table of its own that the test may change."""
    digest = hashlib.sha256(request.node.nodeid.encode()).hexdigest()[:6]
    name = f"{request.node.name.split('[')[0].replace('test_', 'lc_')[:30]}_{digest}"
    table = f"{name}_rows"
    dbt_conn.execute(f'create table "{project.schema}"."{table}" as select * from "{project.schema}".linear_training')

    class Lifecycle:
        model = name

        def write(self, **meta):
            meta = {"target": "y", "algorithm": "ridge", "id_columns": ["id"], **meta}
            project.write(f"models/lifecycle/{name}.sql", MODEL.format(meta=meta, schema=project.schema, table=table))

        def run(self, *extra):
            return project.dbt("run", "-s", name, *extra)

        def operation(self, macro, **args):
            return project.dbt("run-operation", f"dbt_learn.{macro}", "--args", str({"model": name, **args}))

        def versions(self):
            return [row[0] for row in query(dbt_conn, "select version from dbt_learn.model_versions "
                                            "where model_schema = %s and model_name = %s order by version",
                                            [project.schema, name])]

        def deployed(self):
            rows = query(dbt_conn, "select version from dbt_learn.deployed_versions "
                         "where model_schema = %s and model_name = %s", [project.schema, name])
            return rows[0][0] if rows else None

        def change_data(self):
            dbt_conn.execute(f'update "{project.schema}"."{table}" set y = y + 0.5 where id % 2 = 0')

    yield Lifecycle()
    project.remove(f"models/lifecycle/{name}.sql")


def _log(result):
    return "\n".join(m for m in result.messages if "dbt_learn:" in m)


def test_on_change_retrains_on_new_data_or_config_and_skips_otherwise(lifecycle):
    lifecycle.write()
    assert lifecycle.run().success and lifecycle.versions() == [1]
    lifecycle.change_data()
    second = lifecycle.run()
    assert second.success and lifecycle.versions() == [1, 2]
    unchanged = lifecycle.run()
    assert unchanged.success and lifecycle.versions() == [1, 2]
    assert "no training: training data and configuration unchanged since v2" in _log(unchanged)
    lifecycle.write(params={"alpha": 5.0})
    assert lifecycle.run().success and lifecycle.versions() == [1, 2, 3]
    assert lifecycle.deployed() == 3


def test_always_retrains_and_full_refresh_forces_a_retraining(lifecycle):
    lifecycle.write(retrain_policy="always")
    lifecycle.run(), lifecycle.run()
    assert lifecycle.versions() == [1, 2]
    lifecycle.write()
    lifecycle.run("--full-refresh")
    assert lifecycle.versions() == [1, 2, 3]


def test_interval_skips_until_the_interval_has_passed(lifecycle):
    lifecycle.write(retrain_policy="interval", retrain_interval="1 hour")
    assert lifecycle.run().success
    lifecycle.change_data()
    skipped = lifecycle.run()
    assert skipped.success and lifecycle.versions() == [1]
    assert "v1 was trained less than 1 hour ago" in _log(skipped)
    lifecycle.write(retrain_policy="interval", retrain_interval="0 seconds")
    assert lifecycle.run().success and lifecycle.versions() == [1, 2]


def test_best_score_keeps_the_better_version_deployed(lifecycle):
    lifecycle.write(deploy_strategy="best_score", deploy_metric="rmse")
    lifecycle.run()
    lifecycle.write(deploy_strategy="best_score", deploy_metric="rmse", features=["x1"])
    worse = lifecycle.run()
    assert worse.success and lifecycle.versions() == [1, 2]
    assert lifecycle.deployed() == 1
    assert "does not beat" in _log(worse)


def test_pinned_serves_the_pinned_version_whatever_is_trained(lifecycle):
    lifecycle.write()
    lifecycle.run()
    lifecycle.write(deploy_strategy="pinned", deploy_version=1, params={"alpha": 3.0})
    assert lifecycle.run().success
    assert lifecycle.versions() == [1, 2] and lifecycle.deployed() == 1


def test_rollback_reproduces_the_previous_predictions_exactly(project, lifecycle, dbt_conn):
    scores = f"{lifecycle.model}_scores"
    project.write(f"models/lifecycle/{scores}.sql", "{{ config(materialized='table') }} select id, prediction, "
                  f"model_version from {{{{ dbt_learn.ml_score(ref('{lifecycle.model}'), ref('linear_new')) }}}}")
    read = f'select id, prediction, model_version from "{project.schema}"."{scores}" order by id'
    try:
        lifecycle.write()
        assert project.dbt("run", "-s", lifecycle.model, scores).success
        first = query(dbt_conn, read)
        lifecycle.write(params={"alpha": 50.0})
        assert project.dbt("run", "-s", lifecycle.model, scores).success
        second = query(dbt_conn, read)
        assert {r[2] for r in second} == {2} and [r[1] for r in second] != [r[1] for r in first]

        rolled = lifecycle.operation("rollback")
        assert rolled.success, rolled.output
        assert lifecycle.deployed() == 1
        assert project.dbt("run", "-s", scores).success
        assert query(dbt_conn, read) == first

        lifecycle.write()  # back to v1's configuration: on_change sees the deployed v1 and keeps it
        assert lifecycle.run().success
        assert lifecycle.versions() == [1, 2] and lifecycle.deployed() == 1

        assert lifecycle.operation("deploy", version=2).success and lifecycle.deployed() == 2
    finally:
        project.remove(f"models/lifecycle/{scores}.sql")


@pytest.mark.parametrize("operation, args, message", [
    ("deploy", {"version": 9}, "has no version 9 to deploy; its versions are: 1"),
    ("rollback", {}, "is the earliest version; there is no earlier version to roll back to"),
])
def test_bad_deployments_are_clear_errors_and_change_nothing(lifecycle, operation, args, message):
    lifecycle.write()
    lifecycle.run()
    result = lifecycle.operation(operation, **args)
    assert not result.success
    assert message in result.output
    assert lifecycle.deployed() == 1 and lifecycle.versions() == [1]


@pytest.mark.parametrize("meta, message", [
    ({"deploy_strategy": "best_score", "deploy_metric": "accuracy"}, "'accuracy' is not a regression metric"),
    ({"split": "time", "split_column": "observed_at"}, "split_column is not in the training view"),
    ({"split": "stratified"}, "'stratified' applies to classifiers only"),
    ({"retrain_policy": "weekly"}, "retrain_policy 'weekly' is unknown"),
])
def test_bad_lifecycle_options_are_clear_errors_and_change_nothing(lifecycle, meta, message):
    lifecycle.write()
    lifecycle.run()
    lifecycle.write(**meta, params={"alpha": 2.0})
    result = lifecycle.run()
    assert not result.success
    assert message in result.message(lifecycle.model)
    assert lifecycle.versions() == [1] and lifecycle.deployed() == 1


def test_stratified_split_with_a_class_of_one_row_is_a_clear_error(project, dbt_conn):
    result = project.dbt_with({"models/lifecycle/lc_one_row_class.sql": """
{{ config(materialized='ml_train', meta={'target': 'label', 'algorithm': 'decision_tree_classifier',
                                        'split': 'stratified', 'id_columns': ['id']}) }}
select id, a, b, case when id = 1 then 'rare' else label end as label from {{ ref('labels_training') }}
"""}, "run", "-s", "lc_one_row_class")
    assert not result.success
    assert "meta.split 'stratified' needs at least 2 rows of every class" in result.message("lc_one_row_class")
    assert "class 'rare' has 1 row" in result.message("lc_one_row_class")


def test_time_split_and_cross_validation_are_recorded(lifecycle, dbt_conn, project):
    lifecycle.write(split="time", split_column="id", cv_folds=3, holdout_size=0.2)
    assert lifecycle.run().success
    evaluation, metrics, features = query(dbt_conn, """
        select evaluation, metrics, features from dbt_learn.model_versions
        where model_schema = %s and model_name = %s""",
                                          [project.schema, lifecycle.model])[0]
    assert evaluation["split"] == "time" and evaluation["holdout_rows"] == 6 and evaluation["cv_folds"] == 3
    assert set(evaluation["cv"]) == {"r2", "rmse"} and evaluation["cv"]["r2"]["folds"] == 3
    assert set(metrics) == {"r2", "mae", "rmse", "mape"}
    assert [f["name"] for f in features] == ["x1", "x2"]


def test_classification_versions_record_every_metric_and_a_confusion_matrix(project, dbt_conn):
    assert project.dbt_with({"models/lifecycle/lc_classifier.sql": """
{{ config(materialized='ml_train', meta={'target': 'label', 'algorithm': 'logistic_regression',
                                        'id_columns': ['id'], 'holdout_size': 0.25}) }}
select * from {{ ref('labels_training') }}
"""}, "run", "-s", "lc_classifier").success
    metrics, stats = query(dbt_conn, """select metrics, training_stats from dbt_learn.model_versions
                                        where model_schema = %s and model_name = 'lc_classifier'""",
                           [project.schema])[0]
    assert {"accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "f1_weighted",
            "roc_auc", "log_loss", "confusion_matrix"} <= set(metrics)
    assert sum(map(sum, metrics["confusion_matrix"])) == 10
    assert len(stats["a"]["quantiles"]) >= 2 and abs(sum(stats["a"]["frequencies"]) - 1) < 1e-9


def test_purge_is_explicit_and_keeps_the_deployed_and_newest_versions(lifecycle):
    lifecycle.write(retrain_policy="always")
    for _ in range(4):
        lifecycle.run()
    assert lifecycle.operation("deploy", version=1).success
    purged = lifecycle.operation("purge_versions", keep_last=2)
    assert purged.success, purged.output
    assert lifecycle.versions() == [1, 3, 4] and lifecycle.deployed() == 1


def test_a_clusterer_trains_without_a_target_and_scores_cluster_numbers(project, dbt_conn):
    result = project.dbt_with({
        "models/lifecycle/lc_clusters.sql": """
{{ config(materialized='ml_train', meta={'algorithm': 'k_means', 'params': {'n_clusters': 2, 'n_init': 3},
                                        'id_columns': ['id'], 'exclude_columns': ['y']}) }}
select * from {{ ref('linear_training') }}
""",
        "models/lifecycle/lc_cluster_scores.sql":
            "select id, prediction from {{ dbt_learn.ml_score(ref('lc_clusters'), ref('linear_new')) }}",
    }, "run", "-s", "lc_clusters", "lc_cluster_scores")
    assert result.success, result.output
    task, metrics = query(dbt_conn, """select task, metrics from dbt_learn.model_versions
                                       where model_schema = %s and model_name = 'lc_clusters'""", [project.schema])[0]
    assert task == "clustering" and sum(metrics["cluster_sizes"].values()) == 6 and "silhouette" in metrics
    predictions = {row[1] for row in query(dbt_conn, f'select * from "{project.schema}".lc_cluster_scores')}
    assert predictions <= {0, 1} and len(predictions) == 2


def test_renamed_class_labels_count_as_changed_data(project, dbt_conn):
    template = """
{{{{ config(materialized='ml_train', meta={{'target': 'label', 'algorithm': 'decision_tree_classifier',
                                        'id_columns': ['id'], 'holdout_size': 0}}) }}}}
select id, a, b, case label when 'high' then '{high}' else '{low}' end as label from {{{{ ref('labels_training') }}}}
"""
    project.write("models/lifecycle/lc_relabelled.sql", template.format(high="high", low="low"))
    try:
        assert project.dbt("run", "-s", "lc_relabelled").success
        project.write("models/lifecycle/lc_relabelled.sql", template.format(high="tall", low="short"))
        assert project.dbt("run", "-s", "lc_relabelled").success
    finally:
        project.remove("models/lifecycle/lc_relabelled.sql")
    rows = query(dbt_conn, """select version, classes from dbt_learn.model_versions
                              where model_schema = %s and model_name = 'lc_relabelled' order by version""",
                 [project.schema])
    assert rows == [(1, ["high", "low"]), (2, ["short", "tall"])]


def test_a_column_name_with_a_percent_sign_trains(project, dbt_conn):
    result = project.dbt_with({"models/lifecycle/lc_percent.sql": """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select id, x1 as "share_%", x2, y from {{ ref('linear_training') }} where 'a' like '%'
"""}, "run", "-s", "lc_percent")
    assert result.success, result.output
    features = query(dbt_conn, """select features from dbt_learn.model_versions
                                  where model_schema = %s and model_name = 'lc_percent'""", [project.schema])[0][0]
    assert [f["name"] for f in features] == ["share_%", "x2"]


def test_a_run_that_trains_nothing_deploys_by_one_rule_whatever_skipped_it(lifecycle):
    lifecycle.write()
    lifecycle.run()
    lifecycle.change_data()
    lifecycle.run()
    assert lifecycle.versions() == [1, 2] and lifecycle.deployed() == 2
    # retrain_policy interval skips in the materialization, before any rows are read ...
    lifecycle.write(retrain_policy="interval", retrain_interval="1 hour", deploy_strategy="pinned", deploy_version=1)
    by_interval = lifecycle.run()
    assert by_interval.success and lifecycle.versions() == [1, 2] and lifecycle.deployed() == 1
    # ... on_change in the runtime, after reading them; both say what serves in the same words.
    lifecycle.write(deploy_strategy="pinned", deploy_version=2)
    by_unchanged = lifecycle.run()
    assert by_unchanged.success and lifecycle.versions() == [1, 2] and lifecycle.deployed() == 2
    assert "no training: v2 was trained less than 1 hour ago; serving v1 (pinned to v1 by meta.deploy_version)" \
        in _log(by_interval)
    assert "no training: training data and configuration unchanged since v2; serving v2 (pinned to v2 by " \
           "meta.deploy_version)" in _log(by_unchanged)
    for policy in ({"retrain_policy": "interval", "retrain_interval": "1 hour"}, {}):
        lifecycle.write(deploy_strategy="pinned", deploy_version=9, **policy)
        missing = lifecycle.run()
        assert not missing.success
        assert "model '%s': meta.deploy_version 9 does not exist yet; pin a trained version" % lifecycle.model \
            in missing.message(lifecycle.model)
        assert lifecycle.versions() == [1, 2] and lifecycle.deployed() == 2


def test_every_reader_of_the_registry_agrees_on_the_serving_version(project, lifecycle, dbt_conn):
    """dbt_learn.serving_version is the rule; the view, the package models, ml_score and predict() all read it."""
    scores = f"{lifecycle.model}_scores"
    project.write(f"models/lifecycle/{scores}.sql", "{{ config(materialized='table') }} select id, prediction, "
                  f"model_version from {{{{ dbt_learn.ml_score(ref('{lifecycle.model}'), ref('linear_new')) }}}}")
    registry = f'"{project.schema}_dbt_learn_registry"'
    key = [project.schema, lifecycle.model]

    def readers():
        scored = query(dbt_conn, f'select min(model_version), max(model_version) from "{project.schema}"."{scores}"')[0]
        row = query(dbt_conn, f'select s.id, n.x1, n.x2, s.prediction from "{project.schema}"."{scores}" as s '
                              f'join "{project.schema}".linear_new as n using (id) order by s.id limit 1')[0]
        return {
            "function": query(dbt_conn, "select dbt_learn.serving_version(%s, %s)", key)[0][0],
            "view": query(dbt_conn, "select version from dbt_learn.serving_versions where model_schema = %s "
                                    "and model_name = %s", key)[0][0],
            "ml_models": query(dbt_conn, f"select deployed_version from {registry}.ml_models where model_schema = %s "
                                         "and model_name = %s", key)[0][0],
            "ml_model_versions": query(dbt_conn, f"select array_agg(version) filter (where is_deployed) from "
                                                 f"{registry}.ml_model_versions where model_schema = %s and "
                                                 "model_name = %s", key)[0][0],
            "ml_score": scored[0] if scored[0] == scored[1] else scored,
            "model's relation": query(dbt_conn, f'select array_agg(version) filter (where is_deployed) from '
                                                f'"{project.schema}"."{lifecycle.model}"')[0][0],
        }, row

    try:
        lifecycle.write(retrain_policy="always")
        for _ in range(3):
            lifecycle.run()
        for operation, args, expected in (("deploy", {"version": 2}, 2), ("rollback", {}, 1),
                                          ("deploy", {"version": 3}, 3)):
            assert lifecycle.operation(operation, **args).success and lifecycle.deployed() == expected
            assert project.dbt("run", "-s", scores).success
            seen, (_, x1, x2, prediction) = readers()
            assert seen == {"function": expected, "view": expected, "ml_models": expected,
                            "ml_model_versions": [expected], "ml_score": expected, "model's relation": [expected]}
            row_level = query(dbt_conn, "select dbt_learn.predict(%s, %s, %s::float8, %s::float8)", key + [x1, x2])
            assert row_level[0][0] == pytest.approx(prediction, rel=1e-12)
    finally:
        project.remove(f"models/lifecycle/{scores}.sql")
