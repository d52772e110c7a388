"""The catalog through dbt: the ml_algorithms package model lists what dbt_learn.algorithms() generates in the
database (equal to the catalog computed offline with the same pinned libraries), XGBoost, LightGBM and a
meta-estimator train and score through ml_train / ml_score exactly as the same Pipeline refitted offline, and a search
class named as the algorithm fails with the message pointing to meta.search, registering nothing."""


import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from dbt_learn.serialization import load_exported
from dbt_learn._catalog import COLUMNS, catalog
from dbt_learn._transport import decode_training_rows

from .conftest import drop_project, query
from .harness import REPO, DbtProject, fresh_schema

pytestmark = pytest.mark.integration

SEEDS = ["labels_training", "labels_new", "linear_training", "linear_new"]
MODELS = {
    # name: (algorithm, params, training seed, new rows seed, target)
    "cat_xgb": ("xgb_classifier", {"n_estimators": 20, "max_depth": 2}, "labels_training", "labels_new", "label"),
    "cat_lgbm": ("lgbm_regressor", {"n_estimators": 30, "min_child_samples": 3}, "linear_training", "linear_new",
                 "y"),
    "cat_voting": ("voting_classifier",
                   {"estimators": [["lr", "logistic_regression"],
                                   ["tree", {"algorithm": "decision_tree_classifier", "params": {"max_depth": 3}}]],
                    "voting": "soft"}, "labels_training", "labels_new", "label"),
}


def _model_sql(algorithm, params, training, target):
    return f"""
{{{{ config(materialized='ml_train', meta={{'target': '{target}', 'algorithm': '{algorithm}', 'params': {params!r},
    'id_columns': ['id'], 'holdout_size': 0, 'threads_per_model': 1}}) }}}}
select * from {{{{ ref('{training}') }}}}
"""


def _scores_sql(model, new):
    return (f"{{{{ config(materialized='table') }}}}\n"
            f"select * from {{{{ dbt_learn.ml_score(ref('{model}'), ref('{new}')) }}}}\n")


@pytest.fixture(scope="module")
def catalog_project(tmp_path_factory, admin_conn):
    """Its own project and schema: only the seeds and models these tests need, not all of integration_tests."""
    project = DbtProject(REPO / "integration_tests", tmp_path_factory.mktemp("catalog"), fresh_schema("cat"))
    for name, (algorithm, params, training, new, target) in MODELS.items():
        project.write(f"models/catalog_it/{name}.sql", _model_sql(algorithm, params, training, target))
        project.write(f"models/catalog_it/{name}_scores.sql", _scores_sql(name, new))
    project.seeded = project.dbt("seed", "-s", *SEEDS)
    project.built = project.dbt("build", "-s", "path:models/catalog_it", "ml_algorithms")
    yield project
    drop_project(admin_conn, project.schema)


def test_the_catalog_models_build(catalog_project):
    assert catalog_project.seeded.success, catalog_project.seeded.output
    assert catalog_project.built.success, catalog_project.built.output


def test_ml_algorithms_lists_what_the_runtime_catalog_generates(catalog_project, dbt_conn):
    assert catalog_project.built.status("ml_algorithms") == "success", catalog_project.built.output
    cursor = dbt_conn.execute(f'select * from "{catalog_project.schema}_dbt_learn_registry".ml_algorithms')
    assert tuple(d.name for d in cursor.description) == COLUMNS
    rows = {row[0]: dict(zip(COLUMNS, row)) for row in cursor.fetchall()}
    # The install allows sklearn, xgboost and lightgbm; the client venv pins the same versions as the server's.
    assert rows == {row["name"]: row for row in catalog(("sklearn", "xgboost", "lightgbm"))}
    flags = ("task", "predicts_probabilities", "has_importances", "can_score", "needs_arguments")
    assert [rows["random_forest_classifier"][f] for f in flags] == ["classification", True, True, True, False]
    assert [rows["xgb_classifier"][f] for f in flags] == ["classification", True, True, True, False]
    assert [rows["lgbm_regressor"][f] for f in flags] == ["regression", False, True, True, False]
    assert [rows["isolation_forest"][f] for f in flags] == ["anomaly_detection", False, False, True, False]
    assert [rows["dbscan"][f] for f in flags] == ["clustering", False, False, False, False]
    assert [rows["voting_classifier"][f] for f in flags] == ["classification", True, False, True, True]
    assert "grid_search_cv" not in rows and "standard_scaler" not in rows


def _registered(admin_conn, schema, name):
    version, classes, features, params = query(admin_conn, """
        select v.version, v.classes, v.features, v.params from dbt_learn.model_versions v
        where v.model_schema = %s and v.model_name = %s order by v.version desc limit 1""", [schema, name])[0]
    artifact = query(admin_conn, "select artifact from dbt_learn.model_artifacts where model_schema = %s and "
                                 "model_name = %s and version = %s", [schema, name, version])[0][0]
    return version, classes, [f["name"] for f in features], params, load_exported(artifact)


def _in_training_order(X, y, classes):
    """The rows in the canonical order the runtime fits in (see test_offline_equality)."""
    target = np.searchsorted(classes, y).astype(">i4") if classes else y.astype(">f8")
    records = np.empty(len(X), dtype=[("x", ">f8", (X.shape[1],)), ("y", target.dtype)])
    records["x"], records["y"] = X, target
    X_ordered, y_ordered, *_ = decode_training_rows(records.tobytes(), len(X), X.shape[1],
                                                    "int4" if classes else "float8", model="offline")
    return X_ordered, y_ordered


def _inputs(artifact, names, X):
    """A fitted Pipeline of the automatic preprocessing takes a frame by column name; a bare estimator an array."""
    return pd.DataFrame(X, columns=names) if hasattr(artifact, "feature_names_in_") else X


def _seed(conn, schema, seed, names, target=None):
    columns = ", ".join(f'"{c}"::float8' for c in names) + (f', "{target}"' if target else "")
    rows = query(conn, f'select {columns} from "{schema}"."{seed}" order by id')
    X = np.array([row[:len(names)] for row in rows], dtype=np.float64)
    return X, (np.array([row[-1] for row in rows]) if target else None)


@pytest.mark.parametrize("name", list(MODELS))
def test_models_train_and_score_as_the_same_pipeline_refitted_offline(catalog_project, dbt_conn, admin_conn, name):
    assert catalog_project.built.status(name) == "success", catalog_project.built.output
    algorithm, params, training, new, target = MODELS[name]
    schema = catalog_project.schema
    version, classes, names, registered_params, artifact = _registered(admin_conn, schema, name)
    final = artifact[-1] if hasattr(artifact, "steps") else artifact
    assert type(final).__name__ == {"cat_xgb": "XGBClassifier", "cat_lgbm": "LGBMRegressor",
                                    "cat_voting": "VotingClassifier"}[name]

    X, y = _seed(dbt_conn, schema, training, names, target)
    X_ordered, y_ordered = _in_training_order(X, y, classes)
    offline = clone(artifact).fit(_inputs(artifact, names, X_ordered), y_ordered)
    X_new, _ = _seed(dbt_conn, schema, new, names)
    cursor = dbt_conn.execute(f'select * from "{schema}"."{name}_scores" order by id')
    columns = [d.name for d in cursor.description]
    got = {c: np.array(values) for c, values in zip(columns, zip(*cursor.fetchall()))}
    assert (got["model_version"] == version).all()
    expected = offline.predict(_inputs(artifact, names, X_new))
    if classes:
        assert got["prediction"].tolist() == [classes[i] for i in expected]
        probabilities = offline.predict_proba(_inputs(artifact, names, X_new))
        for index, label in enumerate(classes):
            np.testing.assert_allclose(got[f"probability_{label}"].astype(float), probabilities[:, index],
                                       rtol=0, atol=1e-9)
    else:
        np.testing.assert_allclose(got["prediction"].astype(float), expected, rtol=0, atol=1e-9)
    if name != "cat_voting":
        # XGBoost/LightGBM count threads in n_jobs: dbt_learn gives them the model's budget (threads_per_model).
        assert final.n_jobs == 1 and registered_params["n_jobs"] == 1
        assert all(final.get_params()[key] == value for key, value in params.items())
    else:
        # Nested estimators are recorded in the syntax of meta.params.
        tree = registered_params["estimators"][1]
        assert tree[0] == "tree" and tree[1]["algorithm"] == "decision_tree_classifier"
        assert tree[1]["params"]["max_depth"] == 3 and registered_params["voting"] == "soft"


def test_a_search_class_as_algorithm_fails_clearly_and_registers_nothing(catalog_project, dbt_conn):
    model = _model_sql("grid_search_cv", {}, "labels_training", "label")
    result = catalog_project.dbt_with({"models/catalog_it/cat_grid.sql": model}, "run", "-s", "cat_grid")
    assert not result.success
    message = result.message("cat_grid")
    assert "model 'cat_grid': 'grid_search_cv' is a hyperparameter search, not an estimator" in message, message
    assert "meta.search" in message and "Traceback" not in message
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s and "
                           "model_name = 'cat_grid'", [catalog_project.schema])[0][0] == 0
    assert query(dbt_conn, "select to_regclass(%s)", [f'"{catalog_project.schema}".cat_grid'])[0][0] is None


@pytest.mark.parametrize("algorithm, params, fragments", [
    ("voting_classifier", {}, ["model 'cat_bad'", "VotingClassifier needs the argument 'estimators'",
                               "params: {estimators: [['lr', 'logistic_regression']"]),
    ("pipeline", {}, ["model 'cat_bad'", "Pipeline composes preprocessing steps", "dbt Python model"]),
    ("standard_scaler", {}, ["model 'cat_bad'", "StandardScaler is a transformer"]),
])
def test_what_ml_train_cannot_fit_is_refused_before_any_data_moves(catalog_project, dbt_conn, algorithm, params,
                                                                     fragments):
    model = _model_sql(algorithm, params, "labels_training", "label")
    result = catalog_project.dbt_with({"models/catalog_it/cat_bad.sql": model}, "run", "-s", "cat_bad")
    assert not result.success
    for fragment in fragments:
        assert fragment in result.message("cat_bad"), result.message("cat_bad")
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s and "
                           "model_name = 'cat_bad'", [catalog_project.schema])[0][0] == 0
