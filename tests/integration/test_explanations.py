"""Explanations through dbt: the ml_feature_importances package model against the deployed estimators and an offline
refit on the same rows, and ml_score's per-row top-k contributions against a manual computation."""


import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from dbt_learn.serialization import load_exported
from dbt_learn._transport import decode_training_rows

from .conftest import query

MODEL = """
{{ config(materialized='ml_train', meta={
    'target': 'label', 'algorithm': 'ALGORITHM', 'params': PARAMS, 'id_columns': ['id'],
}) }}
select * from "SCHEMA".explain_rows where id % 4 <> 0
"""
MODELS = {"explain_forest": ("random_forest_classifier", {"n_estimators": 15, "max_depth": 4}),
          "explain_logistic": ("logistic_regression", {"max_iter": 2000}),
          "explain_boosting": ("hist_gradient_boosting_classifier", {"max_iter": 20})}
FEATURES = ["x1", "x2", "city"]


def _frame():
    rng = np.random.default_rng(10)
    n = 400
    frame = pd.DataFrame({"x1": rng.normal(0, 1, n), "x2": rng.normal(5, 2, n),
                          "city": rng.choice(["north", "south", "east", "west"], n).astype(object)})
    frame.loc[rng.random(n) < 0.1, "x2"] = np.nan
    score = frame.x1 + 0.4 * frame.x2.fillna(5) + 1.5 * (frame.city == "north") + rng.normal(0, 0.5, n)
    frame["label"] = np.where(score > 2.6, "yes", "no").astype(object)
    return frame


@pytest.fixture(scope="module")
def explained(project, dbt_conn):
    frame = _frame()
    dbt_conn.execute(f'create table "{project.schema}".explain_rows '
                     f'(id integer, x1 float8, x2 float8, city text, label text)')
    with dbt_conn.cursor().copy(f'copy "{project.schema}".explain_rows from stdin') as copy:
        for i, row in enumerate(frame.itertuples(index=False), 1):
            copy.write_row((i, *[None if isinstance(v, float) and np.isnan(v) else v for v in row]))
    for name, (algorithm, params) in MODELS.items():
        project.write(f"models/explain/{name}.sql", MODEL.replace("ALGORITHM", algorithm)
                      .replace("PARAMS", repr(params)).replace("SCHEMA", project.schema))
    result = project.dbt("run", "-s", *MODELS)
    assert result.success, result.output
    return frame


def _artifact(admin_conn, schema, name):
    artifact = query(admin_conn, """select a.artifact from dbt_learn.model_artifacts a
                                    where a.model_schema = %s and a.model_name = %s order by version desc limit 1""",
                     [schema, name])[0][0]
    return load_exported(artifact)


def _importances(conn, schema, name, level):
    return query(conn, f"""select name, input_column, importance, method, importance_rank
                           from "{schema}_dbt_learn_registry".ml_feature_importances
                           where model_schema = %s and model_name = %s and level = %s and is_latest
                           order by position""", [schema, name, level])


def _own(artifact):
    estimator = artifact.steps[-1][1]
    if hasattr(estimator, "feature_importances_"):
        return "impurity", estimator.feature_importances_
    if hasattr(estimator, "_predictors"):  # histogram gradient boosting: each split's gain, summed per feature
        gains = np.zeros(estimator.n_features_in_)
        for node in (node for trees in estimator._predictors for tree in trees for node in tree.nodes):
            gains[node["feature_idx"]] += 0 if node["is_leaf"] else node["gain"]
        return "gain", gains / gains.sum()
    return "coefficients", np.abs(estimator.coef_).mean(axis=0)


@pytest.mark.parametrize("name", MODELS)
def test_feature_importances_model_lists_the_deployed_estimators_own(project, dbt_conn, admin_conn, explained, name):
    artifact = _artifact(admin_conn, project.schema, name)
    method, expected = _own(artifact)
    features = _importances(dbt_conn, project.schema, name, "feature")
    assert [row[0] for row in features] == [str(n) for n in artifact[:-1].get_feature_names_out()]
    assert {row[3] for row in features} == {method}
    np.testing.assert_allclose([row[2] for row in features], expected, rtol=1e-12)
    columns = _importances(dbt_conn, project.schema, name, "column")
    assert sorted(row[0] for row in columns) == sorted(FEATURES)
    for column, _, importance, _, _ in columns:
        parts = [row[2] for row in features if row[1] == column]
        assert importance == pytest.approx(sum(parts)) and parts
    assert sorted(row[4] for row in columns) == sorted(
        1 + sum(other[2] > row[2] for other in columns) for row in columns)
    city = [row[0] for row in features if row[1] == "city"]
    assert len(city) == (4 if method == "coefficients" else 1)  # ordinal for trees, one-hot for linear models


def test_forest_importances_equal_an_offline_fit_on_the_same_rows(project, dbt_conn, admin_conn, explained):
    frame = explained
    train = frame[(np.arange(1, len(frame) + 1) % 4) != 0]
    labels = sorted(set(train.label))
    target = np.searchsorted(labels, train.label.to_numpy()).astype(">i4")
    records = np.empty(len(train), dtype=[("x", ">f8", (2,)), ("y", ">i4")])
    records["x"], records["y"] = train[["x1", "x2"]].to_numpy(np.float64), target
    X, y, _, texts = decode_training_rows(records.tobytes(), len(train), 2, "int4", model="offline",
                                          text_columns=[train.city.to_numpy(dtype=object)])
    ordered = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "city": texts[0]})
    artifact = _artifact(admin_conn, project.schema, "explain_forest")
    offline = clone(artifact).fit(ordered, y)
    stored = [row[2] for row in _importances(dbt_conn, project.schema, "explain_forest", "feature")]
    np.testing.assert_allclose(stored, offline[-1].feature_importances_, rtol=1e-12)


SCORES = """{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('MODEL'), adapter.get_relation(this.database, 'SCHEMA', 'explain_rows'),
                                    explain=3) }}
"""


def _explanations(project, dbt_conn, name):
    scores = f"{name}_explained"
    result = project.dbt_with({f"models/explain/{scores}.sql": SCORES.replace("MODEL", name)
                               .replace("SCHEMA", project.schema)}, "run", "-s", scores)
    assert result.success, result.output
    return dict(query(dbt_conn, f'select id, explanation from "{project.schema}"."{scores}" order by id'))


def test_ml_score_explains_a_linear_model_as_coef_times_feature(project, dbt_conn, admin_conn, explained):
    got = _explanations(project, dbt_conn, "explain_logistic")
    artifact = _artifact(admin_conn, project.schema, "explain_logistic")
    names = [str(n) for n in artifact[:-1].get_feature_names_out()]
    Z = artifact[:-1].transform(explained[FEATURES])
    Z = Z.toarray() if hasattr(Z, "toarray") else Z
    estimator = artifact.steps[-1][1]
    contributions = Z * estimator.coef_[0]  # binary: the positive class's log-odds
    np.testing.assert_allclose(estimator.intercept_[0] + contributions.sum(axis=1),
                               artifact.decision_function(explained[FEATURES]), atol=1e-9)
    assert len(got) == len(explained)
    for row in range(0, len(explained), 17):
        top = np.argsort(-np.abs(contributions[row]), kind="stable")[:3]
        assert [c["feature"] for c in got[row + 1]] == [names[i] for i in top]
        np.testing.assert_allclose([c["contribution"] for c in got[row + 1]], contributions[row, top], atol=1e-9)


def test_ml_score_explains_a_forest_by_its_paths(project, dbt_conn, admin_conn, explained):
    from sklearn.tree import _tree

    got = _explanations(project, dbt_conn, "explain_forest")
    artifact = _artifact(admin_conn, project.schema, "explain_forest")
    forest = artifact.steps[-1][1]
    Z = np.asarray(artifact[:-1].transform(explained[FEATURES]), dtype=np.float64)
    names = [str(n) for n in artifact[:-1].get_feature_names_out()]
    proba = artifact.predict_proba(explained[FEATURES])[:, 1]
    for row in range(0, len(explained), 23):
        found, base = np.zeros(Z.shape[1]), 0.0
        for tree in forest.estimators_:  # walk the path, positive-class probability at each node
            t, node = tree.tree_, 0
            value = t.value[:, 0, 1] / t.value[:, 0, :].sum(axis=1)
            base += value[0] / len(forest.estimators_)
            while t.children_left[node] != _tree.TREE_LEAF:
                x = np.float32(Z[row, t.feature[node]])
                goes_left = x <= t.threshold[node] if not np.isnan(x) else bool(t.missing_go_to_left[node])
                child = t.children_left[node] if goes_left else t.children_right[node]
                found[t.feature[node]] += (value[child] - value[node]) / len(forest.estimators_)
                node = child
        assert base + found.sum() == pytest.approx(proba[row], abs=1e-9)  # the reference adds up
        top = np.argsort(-np.abs(found), kind="stable")[:3]
        assert [c["feature"] for c in got[row + 1]] == [names[i] for i in top]
        np.testing.assert_allclose([c["contribution"] for c in got[row + 1]], found[top], atol=1e-9)
