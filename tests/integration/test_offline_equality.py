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

from dbt_learn._transport import decode_training_rows

from .conftest import query


def _load_table(conn, schema, name, frame):
    columns = ", ".join(f'"{c}" {"text" if frame[c].dtype == object else "double precision"}' for c in frame.columns)
    conn.execute(f'create table "{schema}"."{name}" (id integer, {columns})')
    with conn.cursor().copy(f'copy "{schema}"."{name}" from stdin') as copy:
        for i, row in enumerate(frame.itertuples(index=False), 1):
            copy.write_row((i, *row))


def _in_training_order(X, y):
    """The rows in the canonical order the runtime fits in: encoded as the training batch is (big-endian float8
    features, then a float8 target or an int4 index into the sorted class labels) and decoded by the runtime."""
    classes = sorted(set(y)) if y.dtype == object else None
    target = np.searchsorted(classes, y).astype(">i4") if classes else y.astype(">f8")
    records = np.empty(len(X), dtype=[("x", ">f8", (X.shape[1],)), ("y", target.dtype)])
    records["x"], records["y"] = X, target
    X_ordered, y_ordered, _, _ = decode_training_rows(records.tobytes(), len(X), X.shape[1],
                                                   "int4" if classes else "float8", model="offline")
    return X_ordered, np.asarray(classes, dtype=object)[y_ordered] if classes else y_ordered


@pytest.fixture(scope="module")
def datasets(project, dbt_conn):
    cancer = load_breast_cancer(as_frame=True).frame
    cancer.columns = [c.replace(" ", "_") for c in cancer.columns]
    cancer["target"] = cancer["target"].map({0: "malignant", 1: "benign"}).astype(object)
    _load_table(dbt_conn, project.schema, "cancer_rows", cancer)
    diabetes = load_diabetes(as_frame=True).frame
    _load_table(dbt_conn, project.schema, "diabetes_rows", diabetes)
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
    X, y = _in_training_order(fit_rows[features].to_numpy(dtype=np.float64), fit_rows["target"].to_numpy())
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
