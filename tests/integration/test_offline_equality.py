"""Predictions made inside Postgres equal those of the same estimator fitted offline on the same rows and seed."""

import numpy as np
import pytest
from sklearn.base import is_classifier
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.ensemble import RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeRegressor


from .conftest import in_training_order, load_table, query


@pytest.fixture(scope="module")
def datasets(project, dbt_conn):
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.columns = [c.replace(" ", "_") for c in cancer.columns]
    cancer["target"] = cancer["target"].map({0: "malignant", 1: "benign"}).astype(object)
    load_table(dbt_conn, project.schema, "cancer_rows", cancer)
    diabetes = load_diabetes(as_frame=True).frame
    load_table(dbt_conn, project.schema, "diabetes_rows", diabetes)
    return {"cancer_rows": cancer, "diabetes_rows": diabetes}


CASES = [
    # The default preprocessing standardises for linear models (imputing first): the same Pipeline, built here.
    ("offline_logistic", "cancer_rows", "logistic_regression", {"C": 0.5, "max_iter": 10000},
     make_pipeline(SimpleImputer(strategy="mean", add_indicator=True, keep_empty_features=True), StandardScaler(),
                   LogisticRegression(C=0.5, max_iter=10000, random_state=0))),
    ("offline_forest", "cancer_rows", "random_forest_classifier", {"n_estimators": 20, "max_depth": 4},
     RandomForestClassifier(n_estimators=20, max_depth=4, random_state=0)),
    ("offline_linear", "diabetes_rows", "linear_regression", {}, LinearRegression()),
    ("offline_tree", "diabetes_rows", "decision_tree_regressor", {"max_depth": 5},
     DecisionTreeRegressor(max_depth=5, random_state=0)),
]


@pytest.mark.parametrize("name, table, algorithm, params, offline", CASES, ids=[c[0] for c in CASES])
def test_in_database_predictions_equal_offline_scikit_learn(project, dbt_conn, datasets, name, table, algorithm,
                                                             params, offline):
    schema = project.schema
    project.write(f"models/offline/{name}.sql", f"""
{{{{ config(materialized='ml_train', meta={{'target': 'target', 'algorithm': '{algorithm}', 'params': {params!r},
                                           'id_columns': ['id']}}) }}}}
select * from "{schema}"."{table}" where id % 3 <> 0
""")
    project.write(f"models/offline/{name}_scores.sql", f"""
select * from {{{{ dbt_learn.ml_score(ref('{name}'), source_rows) }}}}
""".replace("source_rows", f"adapter.get_relation(this.database, '{schema}', '{table}')"))
    result = project.dbt("run", "-s", name, f"{name}_scores")
    assert result.success, result.output

    frame = datasets[table]
    features = [c for c in frame.columns if c != "target"]
    ids = np.arange(1, len(frame) + 1)
    fit_rows = frame[ids % 3 != 0]
    X, y, classes = in_training_order(fit_rows[features].to_numpy(dtype=np.float64), fit_rows["target"].to_numpy())
    y = np.asarray(classes, dtype=object)[y] if classes else y
    offline.fit(X, y)
    expected = offline.predict(frame[features].to_numpy(dtype=np.float64))

    scored = query(dbt_conn, f'select * from "{schema}"."{name}_scores" order by id')
    columns = [d.name for d in dbt_conn.execute(f'select * from "{schema}"."{name}_scores" limit 0').description]
    got = {c: np.array([row[i] for row in scored]) for i, c in enumerate(columns)}
    assert got["id"].tolist() == ids.tolist()
    if is_classifier(offline):
        assert got["prediction"].tolist() == expected.tolist()
        probabilities = offline.predict_proba(frame[features].to_numpy(dtype=np.float64))
        for index, label in enumerate(offline.classes_):
            np.testing.assert_allclose(got[f"probability_{label}"].astype(float), probabilities[:, index],
                                       rtol=0, atol=1e-9)
    else:
        np.testing.assert_allclose(got["prediction"].astype(float), expected, rtol=0, atol=1e-9)
