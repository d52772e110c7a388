"""The integration_tests project builds end to end as the non-superuser dbt role, and the registry records it."""

import hashlib

from .conftest import query


def test_integration_project_builds_and_its_tests_pass(project):
    assert project.build.success, project.build.output
    statuses = {r.node.name: str(r.status) for r in project.build.results}
    assert statuses["linear_model"] == "success"
    assert statuses["assert_linear_scores_match_expected"] == "pass"
    assert statuses["dbt_utils_equality_python_label_scores_ref_expected_label_scores_"] == "pass"


def test_dbt_output_has_no_deprecations_or_warnings(project):
    assert project.build.success
    flagged = [m for m in project.build.messages if m.startswith("[warn]") or "eprecat" in m]
    assert flagged == []


def test_dbt_role_is_not_a_superuser_yet_trains_and_scores(project, dbt_conn):
    user, is_super = query(dbt_conn, "select current_user, rolsuper from pg_roles where rolname = current_user")[0]
    assert is_super is False
    trained_by = query(dbt_conn, "select distinct trained_by from dbt_learn.model_versions where model_schema = %s",
                       [project.schema])
    assert trained_by == [(user,)]
    assert query(dbt_conn, f'select count(*) from "{project.schema}".linear_scores')[0][0] == 12


def test_registry_records_what_each_version_was_trained_with(project, dbt_conn, admin_conn):
    row = query(dbt_conn, """
        select training_rows, holdout_rows, features, fit_seconds, metrics, library_versions, task, algorithm,
               target_column, target_type, artifact_sha256, data_fingerprint, training_stats, dbt_invocation_id
        from dbt_learn.model_versions where model_schema = %s and model_name = 'linear_model'""", [project.schema])
    assert len(row) == 1
    (training_rows, holdout_rows, features, fit_seconds, metrics, libraries, task, algorithm, target, target_type,
     sha256, fingerprint, stats, invocation) = row[0]
    assert (training_rows, holdout_rows, task, target) == (30, 6, "regression", "y")
    assert algorithm == "sklearn.linear_model.LinearRegression"
    assert [f["name"] for f in features] == ["x1", "x2"]
    assert all(f["type"] == "double precision" for f in features)
    assert fit_seconds > 0
    assert metrics["r2"] > 0.999999
    assert libraries["scikit-learn"] == "1.9.1"
    assert stats["x1"]["count"] == 30 and stats["x1"]["nulls"] == 0
    assert len(fingerprint) == 64 and invocation
    artifact = query(admin_conn, """select artifact from dbt_learn.model_artifacts
                                    where model_schema = %s and model_name = 'linear_model'""", [project.schema])[0][0]
    assert hashlib.sha256(artifact).hexdigest() == sha256


def test_trained_model_relation_lists_versions_and_is_refable(project, dbt_conn):
    rows = query(dbt_conn, f'select model_name, version, is_latest from "{project.schema}".label_model')
    assert rows == [("label_model", 1, True)]


def test_text_target_predictions_come_back_as_labels_with_class_probabilities(project, dbt_conn):
    rows = query(dbt_conn, f"""select id, prediction, probability_high, probability_low, model_version
                               from "{project.schema}".label_scores order by id""")
    assert {r[1] for r in rows} == {"high", "low"}
    for _, label, p_high, p_low, version in rows:
        assert abs(p_high + p_low - 1) < 1e-12
        assert (p_high > 0.5) == (label == "high")
        assert version == 1


def test_dbt_role_cannot_change_the_registry_or_read_artifacts(project, dbt_conn):
    import psycopg
    import pytest

    for sql in ("update dbt_learn.model_versions set metrics = '{}'",
                "select artifact from dbt_learn.model_artifacts",
                "select dbt_learn.predict_into_temp('a', 'b', 1, 0, null, null, '{}')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            dbt_conn.execute(sql)


def test_registry_is_append_only_even_for_the_admin(project, admin_conn):
    import psycopg
    import pytest

    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        admin_conn.execute("update dbt_learn.model_versions set metrics = '{}' where model_schema = %s",
                           [project.schema])


def test_docs_lineage_runs_from_training_rows_to_model_to_scores_to_tests(project):
    import json

    result = project.dbt("docs", "generate")
    assert result.success, result.output

    manifest = json.loads((project.root / "target" / "manifest.json").read_text())
    parents = manifest["parent_map"]
    node = "model.dbt_learn_integration_tests."
    assert parents[node + "linear_model"] == ["seed.dbt_learn_integration_tests.linear_training"]
    assert set(parents[node + "linear_scores"]) == {node + "linear_model",
                                                   "seed.dbt_learn_integration_tests.linear_new"}
    children = manifest["child_map"][node + "linear_scores"]
    assert "test.dbt_learn_integration_tests.assert_linear_scores_match_expected" in children
    # quality tests hang off the trained model and its scores
    quality = manifest["child_map"][node + "quality_classifier"]
    assert node + "quality_classifier_scores" in quality
    expected = "test.dbt_learn_integration_tests.quality_classifier_accuracy_at_least_0_8"
    assert any(c.startswith(expected) for c in quality)
    assert parents[node + "quality_classifier"] == ["seed.dbt_learn_integration_tests.labels_training"]


def test_a_classifier_without_predict_proba_scores_without_probability_columns(project, dbt_conn):
    result = project.dbt_with({
        "models/extra/ridge_labels.sql": """
{{ config(materialized='ml_train', meta={'target': 'label', 'algorithm': 'ridge_classifier', 'id_columns': ['id']}) }}
select * from {{ ref('labels_training') }}
""",
        "models/extra/ridge_label_scores.sql":
            "select * from {{ dbt_learn.ml_score(ref('ridge_labels'), ref('labels_new')) }}",
    }, "run", "-s", "ridge_labels", "ridge_label_scores")
    assert result.success, result.output
    columns = [d.name for d in dbt_conn.execute(f'select * from "{project.schema}".ridge_label_scores limit 0')
               .description]
    assert columns == ["id", "prediction", "model_version", "scored_at"]
