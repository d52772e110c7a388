"""meta.search through dbt: every trial stored with the version equals scikit-learn's own search on the same fit rows
and folds, the best candidate is what serves, progress shows in the dbt log, and a fixed seed reproduces it."""


import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris
from sklearn.model_selection import GridSearchCV, KFold, ParameterSampler, StratifiedKFold

from dbt_learn.serialization import load_exported
from dbt_learn.evaluation import split_rows

from .conftest import in_training_order, latest_version, load_table, query

GRID_MODEL = """
{{ config(materialized='ml_train', meta={
    'target': 'target', 'algorithm': 'ridge', 'id_columns': ['id'],
    'search': {'method': 'grid', 'space': {'alpha': [0.5, 20.0], 'fit_intercept': [true, false]},
               'scoring': 'rmse', 'folds': 3, 'progress_seconds': 0},
}) }}
select * from "SCHEMA".search_diabetes
"""
RANDOM_MODEL = """
{{ config(materialized='ml_train', meta={
    'target': 'target', 'algorithm': 'logistic_regression', 'params': {'max_iter': 2000}, 'id_columns': ['id'],
    'search': {'method': 'random', 'space': {'C': {'distribution': 'loguniform', 'low': 0.001, 'high': 100}},
               'iterations': 5, 'folds': 4, 'scoring': 'f1_macro'},
}) }}
select * from "SCHEMA".search_iris
"""


def _model_input(artifact, X, names):
    """What the persisted estimator takes: a DataFrame by column name (dbt_learn's Pipeline) or the array."""
    import pandas as pd

    return pd.DataFrame(X, columns=names) if hasattr(artifact, "steps") else X


@pytest.fixture(scope="module")
def tables(project, dbt_conn):
    diabetes = load_diabetes(as_frame=True).frame
    load_table(dbt_conn, project.schema, "search_diabetes", diabetes)
    iris = load_iris(as_frame=True)
    frame = iris.frame.assign(target=iris.target_names[iris.target].astype(object))
    frame.columns = [c.replace(" (cm)", "").replace(" ", "_") for c in frame.columns]
    load_table(dbt_conn, project.schema, "search_iris", frame)
    return {"diabetes": diabetes, "iris": frame}


def _run(project, name, text, *args):
    return project.dbt_with({f"models/search/{name}.sql": text.replace("SCHEMA", project.schema)},
                            "run", "-s", name, *args)


def _version(conn, admin_conn, schema, name, version):
    evaluation, params = query(conn, """select evaluation, params from dbt_learn.model_versions
                                        where model_schema = %s and model_name = %s and version = %s""",
                               [schema, name, version])[0]
    artifact = query(admin_conn, """select artifact from dbt_learn.model_artifacts
                                    where model_schema = %s and model_name = %s and version = %s""",
                     [schema, name, version])[0][0]
    return evaluation, params, load_exported(artifact)


def _inner(artifact):
    return artifact.steps[-1][1] if hasattr(artifact, "steps") else artifact


@pytest.fixture(scope="module")
def grid_run(project, tables):
    result = _run(project, "search_grid", GRID_MODEL)
    assert result.success, result.output
    return result


def test_grid_search_trials_equal_grid_search_cv_on_the_same_rows_and_folds(project, dbt_conn, admin_conn, tables,
                                                                           grid_run):
    evaluation, _, artifact = _version(dbt_conn, admin_conn, project.schema, "search_grid", 1)
    search = evaluation["search"]
    assert search["method"] == "grid" and search["candidates"] == 4 and len(search["trials"]) == 4
    assert search["scoring"] == "rmse" and search["folds"] == 3

    frame = tables["diabetes"]
    names = [c for c in frame.columns if c != "target"]
    X, y, _ = in_training_order(frame[names].to_numpy(np.float64), frame["target"].to_numpy(np.float64))
    fit, holdout = split_rows("offline", y, "regression", len(y), holdout_size=0.2, random_state=0)
    assert search["fit_rows"] == len(fit) == len(y) - len(holdout)
    prefix = "model__" if hasattr(artifact, "steps") else ""
    offline = GridSearchCV(clone(artifact), {f"{prefix}alpha": [0.5, 20.0], f"{prefix}fit_intercept": [True, False]},
                           scoring="neg_root_mean_squared_error", cv=KFold(3, shuffle=True, random_state=0))
    offline.fit(_model_input(artifact, X[fit], names), y[fit])
    results = offline.cv_results_
    for index, trial in enumerate(search["trials"]):
        assert {prefix + k: v for k, v in trial["params"].items()} == results["params"][index]
        assert trial["mean_score"] == pytest.approx(-results["mean_test_score"][index], rel=1e-10)
        assert trial["fold_scores"] == pytest.approx([-results[f"split{k}_test_score"][index] for k in range(3)],
                                                     rel=1e-10)
        assert trial["rank"] == results["rank_test_score"][index]
    best = {k.removeprefix(prefix): v for k, v in offline.best_params_.items()}
    assert search["best_params"] == best
    deployed = _inner(artifact)
    assert (deployed.alpha, deployed.fit_intercept) == (best["alpha"], best["fit_intercept"])


def test_grid_search_progress_shows_in_the_dbt_log(grid_run):
    lines = [m for m in grid_run.messages if "dbt_learn: search_grid search " in m]
    assert any("search_grid search 1/4 candidates, best rmse=" in m for m in lines), grid_run.output
    assert any("search_grid search 3/4 candidates" in m for m in lines), grid_run.output
    assert any("dbt_learn: search_grid grid search done: 4 candidates x 3 folds" in m for m in grid_run.messages)
    assert any("dbt_learn: trained search_grid v1" in m for m in grid_run.messages), grid_run.output


def test_the_same_seed_reproduces_the_same_trials(project, dbt_conn, admin_conn, tables, grid_run):
    again = _run(project, "search_grid", GRID_MODEL, "--full-refresh")
    assert again.success, again.output
    version = latest_version(dbt_conn, project.schema, "search_grid")
    first, _, _ = _version(dbt_conn, admin_conn, project.schema, "search_grid", 1)
    second, _, _ = _version(dbt_conn, admin_conn, project.schema, "search_grid", version)
    keep = ("candidate", "params", "mean_score", "std_score", "fold_scores", "rank")
    assert version > 1
    assert [{k: t[k] for k in keep} for t in second["search"]["trials"]] == [
        {k: t[k] for k in keep} for t in first["search"]["trials"]]


def test_random_search_samples_its_candidates_with_the_seed(project, dbt_conn, admin_conn, tables):
    result = _run(project, "search_random", RANDOM_MODEL)
    assert result.success, result.output
    evaluation, _, artifact = _version(dbt_conn, admin_conn, project.schema, "search_random", 1)
    search = evaluation["search"]
    expected = list(ParameterSampler({"C": stats.loguniform(0.001, 100)}, n_iter=5, random_state=0))
    assert [t["params"]["C"] for t in search["trials"]] == pytest.approx([float(c["C"]) for c in expected], rel=1e-15)
    assert search["iterations"] == 5 and search["method"] == "random"

    frame = tables["iris"]
    names = [c for c in frame.columns if c != "target"]
    X, y, _ = in_training_order(frame[names].to_numpy(np.float64), frame["target"].to_numpy(dtype=object))
    fit, _ = split_rows("offline", y, "classification", len(y), holdout_size=0.2, random_state=0)
    prefix = "model__" if hasattr(artifact, "steps") else ""
    offline = GridSearchCV(clone(artifact), [{f"{prefix}C": [t["params"]["C"]]} for t in search["trials"]],
                           scoring="f1_macro", cv=StratifiedKFold(4, shuffle=True, random_state=0))
    offline.fit(_model_input(artifact, X[fit], names), y[fit])
    np.testing.assert_allclose([t["mean_score"] for t in search["trials"]], offline.cv_results_["mean_test_score"],
                               rtol=1e-10)
    best = max(search["trials"], key=lambda t: t["mean_score"])
    assert best["rank"] == 1 and search["best_params"] == best["params"]
    assert _inner(artifact).C == best["params"]["C"]


def test_an_unknown_search_parameter_is_a_clear_error_and_registers_nothing(project, dbt_conn, tables):
    bad = GRID_MODEL.replace("'alpha': [0.5, 20.0]", "'alpah': [0.5, 20.0]")
    result = _run(project, "search_bad", bad)
    assert not result.success
    message = result.message("search_bad")
    assert "model 'search_bad'" in message and "unknown hyperparameter 'alpah'" in message, message
    assert "Did you mean 'alpha'" in message and "Traceback" not in message
    assert latest_version(dbt_conn, project.schema, "search_bad") is None


def test_a_stale_token_says_to_rerun(project, dbt_conn):
    answer = query(dbt_conn, "select dbt_learn.train_continue('not-a-token')")[0][0]
    assert "rerun the model" in answer["error"]
