"""The automatic preprocessing of SQL models on a table as a warehouse holds it (text, date, timestamp, boolean and
NULLs): what the registry records, and scoring in bulk, per row and offline giving the same numbers."""

import json

import numpy as np
import pandas as pd
import pytest

from dbt_learn import serialization

from .conftest import latest_version, query

FEATURES = ["plan", "region", "signup_date", "last_seen", "is_active", "age", "income"]
EPOCH = pd.Timestamp("1970-01-01")


def _artifact(admin_conn, schema, model):
    artifact, sha256 = query(admin_conn, """
        select a.artifact, v.artifact_sha256 from dbt_learn.model_artifacts a join dbt_learn.model_versions v
        using (model_schema, model_name, version) where model_schema = %s and model_name = %s
        order by version desc limit 1""", [schema, model])[0]
    return serialization.load(artifact, sha256, model)


def _frame(conn, schema, table):
    """The rows as the pipeline takes them, built here independently of the SQL transport: dates and timestamps as
    epoch seconds, booleans as 1/0, NULL as NaN (numbers) or None (text)."""
    rows = query(conn, f'select customer_id, {", ".join(FEATURES)} from "{schema}".{table} order by customer_id')
    seconds = lambda value: np.nan if value is None else (pd.Timestamp(value) - EPOCH).total_seconds()  # noqa: E731
    number = lambda value: np.nan if value is None else float(value)  # noqa: E731
    frame = pd.DataFrame({
        "plan": np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=object),
        "region": np.array([np.nan if r[2] is None else r[2] for r in rows], dtype=object),
        "signup_date": [seconds(r[3]) for r in rows], "last_seen": [seconds(r[4]) for r in rows],
        "is_active": [number(r[5]) for r in rows], "age": [number(r[6]) for r in rows],
        "income": [number(r[7]) for r in rows]})
    return [r[0] for r in rows], frame


def _scores(conn, schema, model):
    return query(conn, f"""select customer_id, prediction, score from "{schema}".mixed_scores where model = %s
                           order by customer_id""", [model])


def test_the_registry_records_each_column_as_the_model_sees_it(project, dbt_conn):
    rows = dict(query(dbt_conn, """select model_name, jsonb_build_object('p', preprocessing, 'a', algorithm,
                                          'f', features) from dbt_learn.model_versions where model_schema = %s""",
                      [project.schema]))
    linear, forest, ridge = rows["churn_linear"], rows["churn_forest"], rows["spend_ridge"]
    assert linear["a"] == "sklearn.linear_model._logistic.LogisticRegression" or linear["a"].endswith(
        "LogisticRegression")
    kinds = {f["name"]: f["kind"] for f in linear["f"]}
    assert kinds == {"plan": "categorical", "region": "categorical", "signup_date": "datetime",
                     "last_seen": "datetime", "is_active": "numeric", "age": "numeric", "income": "numeric"}
    columns = {c["column"]: c for c in linear["p"]["columns"]}
    assert linear["p"]["family"] == "scaled"
    assert [s["step"] for s in columns["age"]["steps"]] == ["impute mean", "standardize"]
    assert columns["age"]["steps"][0]["missing_indicator"] and "missingindicator_age" in columns["age"]["outputs"]
    assert columns["plan"]["steps"][0]["step"] == "one-hot" and None in columns["plan"]["steps"][0]["categories"]
    assert columns["signup_date"]["outputs"][:2] == ["signup_date_year", "signup_date_month"]
    assert forest["p"]["family"] == "tree"
    forest_columns = {c["column"]: c for c in forest["p"]["columns"]}
    assert forest_columns["region"]["steps"][0]["step"] == "ordinal codes"
    assert forest_columns["age"]["steps"][0]["step"].startswith("passthrough")  # forests take NaN themselves
    region = {c["column"]: c for c in ridge["p"]["columns"]}["region"]["steps"][0]
    # max_categories 5: the four most frequent regions keep a column, the other 26 share one.
    assert region["categories_total"] == 4 and region["other_bucket_total"] == 26


@pytest.mark.parametrize("model", ["churn_linear", "churn_forest"])
def test_classifier_scores_equal_offline_scikit_learn_on_the_same_pipeline(project, dbt_conn, admin_conn, model):
    pipeline = _artifact(admin_conn, project.schema, model)
    ids, frame = _frame(dbt_conn, project.schema, "customers_mixed_new")
    proba = pipeline.predict_proba(frame)[:, list(pipeline.classes_).index(1)]  # classes are indexes of [no, yes]
    scored = _scores(dbt_conn, project.schema, model)
    assert [r[0] for r in scored] == ids
    np.testing.assert_allclose([r[2] for r in scored], proba, rtol=0, atol=1e-12)
    threshold = 0.4 if model == "churn_linear" else 0.5
    expected = np.where(proba >= threshold, "yes", "no") if model == "churn_linear" else \
        np.array(["no", "yes"])[pipeline.predict(frame)]
    assert [r[1] for r in scored] == expected.tolist()


def test_regressor_and_anomaly_scores_equal_offline(project, dbt_conn, admin_conn):
    ids, frame = _frame(dbt_conn, project.schema, "customers_mixed_new")
    ridge = _artifact(admin_conn, project.schema, "spend_ridge")
    np.testing.assert_allclose([r[2] for r in _scores(dbt_conn, project.schema, "spend_ridge")],
                               ridge.predict(frame), rtol=0, atol=1e-9)
    forest = _artifact(admin_conn, project.schema, "customer_anomalies")
    scored = _scores(dbt_conn, project.schema, "customer_anomalies")
    np.testing.assert_allclose([r[2] for r in scored], -forest.score_samples(frame), rtol=0, atol=1e-12)
    assert [r[1] == "true" for r in scored] == (forest.predict(frame) == -1).tolist()


def test_an_unseen_category_gets_zero_weight_and_a_null_row_is_imputed(project, dbt_conn, admin_conn):
    pipeline = _artifact(admin_conn, project.schema, "churn_linear")
    row = query(dbt_conn, f"""select dbt_learn.preprocess_row(%s, 'churn_linear', to_jsonb(c) - 'customer_id')
                              from "{project.schema}".customers_mixed_new c where customer_id = 10001""",
                [project.schema])[0][0]
    assert {k: v for k, v in row.items() if k.startswith("region_")} and \
        all(v == 0 for k, v in row.items() if k.startswith("region_"))  # 'Atlantis' was never seen
    _, frame = _frame(dbt_conn, project.schema, "customers_mixed_new")
    offline = np.asarray(pipeline[:-1].transform(frame.iloc[[0]]))[0]
    names = [str(n) for n in pipeline[:-1].get_feature_names_out()]
    assert sorted(row) == sorted(names)  # jsonb keeps its own key order
    np.testing.assert_allclose([row[name] for name in names], offline, rtol=0, atol=1e-12)
    null_row = query(dbt_conn, f"""select dbt_learn.preprocess_row(%s, 'churn_linear', to_jsonb(c) - 'customer_id')
                                   from "{project.schema}".customers_mixed_new c where customer_id = 10006""",
                     [project.schema])[0][0]
    assert null_row["plan_nan"] == 1 and all(v == 0 for k, v in null_row.items() if k.startswith("region_"))
    assert null_row["missingindicator_age"] > 0  # the indicator is standardised with the other columns


def test_row_level_predict_takes_jsonb_and_agrees_with_bulk_scoring(project, dbt_conn):
    rows = query(dbt_conn, f"""
        select c.customer_id,
               (dbt_learn.predict_proba(%s, 'churn_linear', to_jsonb(c) - 'customer_id'))[2],
               dbt_learn.predict_class(%s, 'churn_linear', to_jsonb(c) - 'customer_id'),
               dbt_learn.predict(%s, 'spend_ridge', to_jsonb(c) - 'customer_id')
        from "{project.schema}".customers_mixed_new c order by c.customer_id""", [project.schema] * 3)
    bulk = {r[0]: r[1:] for r in _scores(dbt_conn, project.schema, "churn_linear")}
    spend = {r[0]: r[2] for r in _scores(dbt_conn, project.schema, "spend_ridge")}
    for customer, probability, label, amount in rows:
        assert probability == pytest.approx(bulk[customer][1], abs=1e-12)
        assert label == bulk[customer][0]  # the 0.4 threshold applies per row too
        assert amount == pytest.approx(spend[customer], abs=1e-9)


def test_ml_predict_emits_the_jsonb_form_for_text_and_date_features(project, dbt_conn):
    result = project.dbt_with({"models/preprocessing/row_level_mixed.sql": """
        {{ config(materialized='table') }}
        select c.customer_id, {{ dbt_learn.ml_predict(ref('churn_linear'), 'c', output='class') }} as churned
        from {{ ref('customers_mixed_new') }} as c"""}, "run", "-s", "row_level_mixed")
    assert result.success, result.output
    bulk = {r[0]: r[1] for r in _scores(dbt_conn, project.schema, "churn_linear")}
    rows = query(dbt_conn, f'select customer_id, churned from "{project.schema}".row_level_mixed')
    assert rows and all(bulk[customer] == label for customer, label in rows)


def test_unchanged_text_data_is_not_retrained(project, dbt_conn):
    before = latest_version(dbt_conn, project.schema, "churn_linear")
    result = project.dbt("run", "-s", "churn_linear")
    assert result.success, result.output
    assert "kept churn_linear, no training" in result.output
    assert latest_version(dbt_conn, project.schema, "churn_linear") == before


def test_an_enum_column_is_a_category(project, dbt_conn):
    dbt_conn.execute(f"""do $$ begin create type "{project.schema}".plan_tier as enum ('basic', 'pro', 'enterprise');
                         exception when duplicate_object then null; end $$""")
    result = project.dbt_with({"models/preprocessing/enum_plan.sql": f"""
        {{{{ config(materialized='ml_train', meta={{'target': 'churned', 'algorithm': 'logistic_regression',
                                                 'id_columns': ['customer_id']}}) }}}}
        select customer_id, plan::"{project.schema}".plan_tier as plan, age, churned
        from {{{{ ref('customers_mixed') }}}}"""}, "run", "-s", "enum_plan")
    assert result.success, result.output
    features, preprocessing = query(dbt_conn, """select features, preprocessing from dbt_learn.model_versions
                                                 where model_schema = %s and model_name = 'enum_plan'""",
                                    [project.schema])[0]
    assert {f["name"]: f["kind"] for f in features}["plan"] == "categorical"
    plan = {c["column"]: c for c in preprocessing["columns"]}["plan"]["steps"][0]
    assert sorted(c for c in plan["categories"] if c) == ["basic", "enterprise", "pro"]
    assert json.dumps(preprocessing)  # plain JSON


def test_drift_compares_text_date_and_timestamp_features_with_their_training_baseline(project, dbt_conn):
    result = project.dbt_with({"models/preprocessing/mixed_drift.sql": """
        {{ config(materialized='table') }}
        {{ dbt_learn.ml_feature_drift(ref('churn_linear'), ref('customers_mixed_new'),
                                      time_column='last_seen', bucket='10000 days') }}"""},
                              "run", "-s", "mixed_drift")
    assert result.success, result.output
    rows = query(dbt_conn, f"""select feature, feature_kind, psi from "{project.schema}".mixed_drift
                               where psi is not null""")
    kinds = {feature: kind for feature, kind, _ in rows}
    assert kinds["region"] == "categorical" and kinds["signup_date"] == "numeric" and kinds["age"] == "numeric"
    # 'Atlantis' falls in the region's "other" bin, which training never filled: that region drifted most.
    psi = {feature: value for feature, _, value in rows}
    assert psi["region"] > psi["age"]
