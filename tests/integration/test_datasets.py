"""Every task on real data through dbt (seeds/datasets, models/datasets): the models build and meet their quality
bars in the session build; ml_score equals offline scikit-learn on the registered Pipeline, unseen categories and
NULLs included; on Palmer penguins (text categories, NULLs) the default preprocessing does at least as well as the
same estimator on the numeric columns only; bad input fails naming the model and column and changes nothing."""

import json
import re

import numpy as np
import pytest

from dbt_learn import serialization
from dbt_learn._transport import feature_frame
from dbt_learn.training import probability_column_names

from .conftest import latest_version, query

# (ml_train model, the relation its scores model scored, the scores model)
SCORED = [
    ("ds_iris_classifier", "iris", "ds_iris_classifier_scores"),
    ("ds_iris_segments", "iris", "ds_iris_segments_scores"),
    ("ds_wine_classifier", "wine", "ds_wine_classifier_scores"),
    ("ds_breast_cancer_classifier", "breast_cancer", "ds_breast_cancer_classifier_scores"),
    ("ds_breast_cancer_anomalies", "breast_cancer", "ds_breast_cancer_anomalies_scores"),
    ("ds_diabetes_regressor", "diabetes", "ds_diabetes_regressor_scores"),
    ("ds_digits_classifier", "digits", "ds_digits_classifier_scores"),
    ("ds_penguins_species", "penguins", "ds_penguins_species_scores"),
    ("ds_penguins_body_mass", "penguins", "ds_penguins_body_mass_scores"),
]
TASKS = {"ds_iris_classifier": "classification", "ds_iris_segments": "clustering",
         "ds_wine_classifier": "classification", "ds_breast_cancer_classifier": "classification",
         "ds_breast_cancer_anomalies": "anomaly_detection", "ds_diabetes_regressor": "regression",
         "ds_digits_classifier": "classification", "ds_penguins_species": "classification",
         "ds_penguins_body_mass": "regression"}


def _version_row(conn, schema, model, version):
    columns = ("task", "features", "classes", "artifact_sha256", "metrics", "preprocessing")
    row = query(conn, f"select {', '.join(columns)} from dbt_learn.model_versions where model_schema = %s and "
                      f"model_name = %s and version = %s", [schema, model, version])[0]
    return dict(zip(columns, row))


def _estimator(admin_conn, schema, model, version, sha256):
    """The registered artifact, unpickled here: the Pipeline the database scores with."""
    artifact = query(admin_conn, "select artifact from dbt_learn.model_artifacts where model_schema = %s and "
                                 "model_name = %s and version = %s", [schema, model, version])[0][0]
    return serialization.load(artifact, sha256, model)


def _frame(conn, schema, relation, features):
    """ids and the feature frame of a relation, built as the runtime builds it: numbers as float64 with NaN for NULL
    (in training order), text as object arrays with None for NULL (dbt_learn._transport.feature_frame)."""
    names = [f["name"] for f in features]
    selected = ", ".join(f'"{name}"' for name in names)
    rows = query(conn, f'select id, {selected} from "{schema}"."{relation}" order by id')
    ids = [row[0] for row in rows]
    columns = {name: [row[i + 1] for row in rows] for i, name in enumerate(names)}
    numeric = [f["name"] for f in features if f["kind"] != "categorical"]
    assert all(f["kind"] != "datetime" for f in features)  # the data sets have none; epoch seconds otherwise
    matrix = np.array([[np.nan if v is None else float(v) for v in columns[n]] for n in numeric],
                      dtype=np.float64).T.reshape(len(rows), len(numeric))
    texts = [np.array(columns[f["name"]], dtype=object) for f in features if f["kind"] == "categorical"]
    return ids, feature_frame(features, matrix, texts)


def _offline(estimator, X, task, classes):
    """What ml_score should return, computed with scikit-learn alone: {scores column: values}."""
    if task == "regression":
        return {"prediction": np.asarray(estimator.predict(X), dtype=np.float64)}
    if task == "clustering":
        return {"prediction": np.asarray(estimator.predict(X)).astype(int)}
    if task == "anomaly_detection":
        return {"is_anomaly": np.asarray(estimator.predict(X)) == -1,
                "anomaly_score": -np.asarray(estimator.score_samples(X), dtype=np.float64)}
    index = np.searchsorted(np.asarray(estimator.classes_), estimator.predict(X))
    out = {"prediction": np.asarray(classes, dtype=object)[index]}
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(X)
        for i, name in enumerate(probability_column_names(classes)):
            out[name] = proba[:, i]
    return out


def _scores(conn, schema, table):
    cursor = conn.execute(f'select * from "{schema}"."{table}" order by id')
    names = [d.name for d in cursor.description]
    rows = cursor.fetchall()
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _assert_scores_equal_offline(dbt_conn, admin_conn, schema, model, relation, scores_table):
    got = _scores(dbt_conn, schema, scores_table)
    versions = set(got["model_version"])
    assert len(versions) == 1, versions
    version = versions.pop()
    registered = _version_row(dbt_conn, schema, model, version)
    estimator = _estimator(admin_conn, schema, model, version, registered["artifact_sha256"])
    ids, X = _frame(dbt_conn, schema, relation, registered["features"])
    assert got["id"] == ids
    expected = _offline(estimator, X, registered["task"], registered["classes"])
    for column, values in expected.items():
        assert column in got, f"{scores_table} has no column {column}: {sorted(got)}"
        if values.dtype.kind == "f":
            np.testing.assert_array_equal(np.array(got[column], dtype=np.float64), values, err_msg=column)
        else:
            assert list(got[column]) == values.tolist(), column
    return registered, estimator, X


def test_every_dataset_model_builds_and_meets_its_thresholds(project, dbt_conn):
    ours = [r for r in project.build.results if re.search(r"(^|_)ds_", r.node.name)
            or r.node.original_file_path.startswith(("seeds/datasets/", "models/datasets/"))]
    failed = {r.node.name: r.message for r in ours if str(r.status) not in ("success", "pass")}
    assert not failed, failed
    tests = {r.node.name for r in ours if r.node.resource_type == "test"}
    assert {"ds_iris_classifier_accuracy_at_least_0_9", "ds_penguins_body_mass_r2_at_least_0_75",
            "ds_iris_segments_silhouette_at_least_0_3"} <= tests
    for model, task in TASKS.items():
        recorded = query(dbt_conn, "select task from dbt_learn.model_versions where model_schema = %s and "
                                   "model_name = %s", [project.schema, model])
        assert recorded and {row[0] for row in recorded} == {task}, model


def test_penguins_seed_has_text_categories_and_nulls(project, dbt_conn):
    types = dict(query(dbt_conn, "select column_name, data_type from information_schema.columns where "
                                 "table_schema = %s and table_name = 'penguins'", [project.schema]))
    assert types["island"] == "text" and types["bill_length_mm"] == "double precision"
    nulls = query(dbt_conn, f'select count(*) filter (where sex is null), count(*) filter (where bill_length_mm is '
                            f'null), count(*) from "{project.schema}".penguins')[0]
    assert nulls == (11, 2, 344)


@pytest.mark.parametrize("model, relation, scores_table", SCORED, ids=[case[0] for case in SCORED])
def test_scores_equal_offline_scikit_learn_on_the_registered_pipeline(project, dbt_conn, admin_conn, model,
                                                                      relation, scores_table):
    registered, estimator, _ = _assert_scores_equal_offline(dbt_conn, admin_conn, project.schema, model, relation,
                                                            scores_table)
    assert type(estimator).__name__ == "Pipeline"  # the default preprocessing is part of the artifact
    assert registered["preprocessing"]["mode"] == "auto"


def test_the_registry_describes_the_penguins_transform(project, dbt_conn):
    version = latest_version(dbt_conn, project.schema, "ds_penguins_body_mass")
    described = _version_row(dbt_conn, project.schema, "ds_penguins_body_mass", version)["preprocessing"]
    columns = {c["column"]: c for c in described["columns"]}
    island = columns["island"]["steps"][0]
    assert island["step"] == "one-hot" and sorted(island["categories"]) == ["Biscoe", "Dream", "Torgersen"]
    assert columns["sex"]["steps"][0]["null"].startswith("a category of its own")  # 9 birds have no sex
    assert [s["step"] for s in columns["bill_length_mm"]["steps"]] == ["impute mean", "standardize"]


UNSEEN = """{{ config(materialized='table') }}
-- Every penguin, then birds the models never saw: an unknown island, unknown sex, NULL measurements, all NULL.
select * from {{ ref('penguins') }}
union all
select * from (values
    (10001, 'Adelie', 'Atlantis', null::double precision, 18.0::double precision, 190.0::double precision,
     3700.0::double precision, 'female', 2008),
    (10002, 'Gentoo', 'Biscoe', 47.0, 15.0, 215.0, 5100.0, 'unknown', 2009),
    (10003, 'Chinstrap', 'Dream', null, null, null, null, null, null::integer),
    (10004, null, null, null, null, null, null, null, null)
) as unseen (id, species, island, bill_length_mm, bill_depth_mm, flipper_length_mm, body_mass_g, sex, year)
"""


@pytest.mark.parametrize("model", ["ds_penguins_body_mass", "ds_penguins_species"])
def test_unseen_categories_and_nulls_at_scoring_are_scored_like_offline(project, dbt_conn, admin_conn, model):
    scores = f"{model}_unseen_scores"
    result = project.dbt_with({
        "models/datasets_extra/ds_penguins_unseen.sql": UNSEEN,
        f"models/datasets_extra/{scores}.sql": "{{ config(materialized='table') }}\n"
        f"select * from {{{{ dbt_learn.ml_score(ref('{model}'), ref('ds_penguins_unseen')) }}}}\n",
    }, "run", "-s", "ds_penguins_unseen", scores)
    assert result.success, result.output
    _assert_scores_equal_offline(dbt_conn, admin_conn, project.schema, model, "ds_penguins_unseen", scores)
    unseen = query(dbt_conn, f'select id, prediction from "{project.schema}"."{scores}" where id > 10000 order by id')
    assert [row[0] for row in unseen] == [10001, 10002, 10003, 10004]
    assert all(row[1] is not None for row in unseen)


NUMERIC_ONLY = """{{{{ config(materialized='ml_train', meta={{
    'target': '{target}', 'algorithm': '{algorithm}', 'params': {params}, 'id_columns': ['id'],
    'features': {features},
}}) }}}}
select * from {{{{ ref('penguins') }}}}
where {not_null}
"""
# (default model, target, algorithm, params, metric) - the numeric-only twin has the same estimator.
COMPARED = [
    ("ds_penguins_body_mass", "body_mass_g", "linear_regression", {}, "r2"),
    ("ds_penguins_species", "species", "hist_gradient_boosting_classifier", {"max_iter": 50}, "accuracy"),
]


@pytest.mark.parametrize("model, target, algorithm, params, metric", COMPARED, ids=[c[0] for c in COMPARED])
def test_default_preprocessing_is_at_least_as_good_as_numeric_columns_only(project, dbt_conn, capsys, model,
                                                                           target, algorithm, params, metric):
    numeric = [c for c in ("bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "year")
               if c != target]
    twin = f"{model}_numeric_only"
    result = project.dbt_with({f"models/datasets_extra/{twin}.sql": NUMERIC_ONLY.format(
        target=target, algorithm=algorithm, params=params, features=numeric,
        not_null=" and ".join(f"{c} is not null" for c in [*numeric, target]))}, "run", "-s", twin)
    assert result.success, result.output

    def recorded(name):
        version = latest_version(dbt_conn, project.schema, name)
        row = query(dbt_conn, "select metrics, training_rows, holdout_rows from dbt_learn.model_versions where "
                              "model_schema = %s and model_name = %s and version = %s",
                    [project.schema, name, version])[0]
        return row[0], row[1], row[2]

    (default, default_rows, default_holdout), (only, only_rows, only_holdout) = recorded(model), recorded(twin)
    with capsys.disabled():
        print(f"\npenguins {target} ({algorithm}), holdout {metric}: default preprocessing (all columns, "
              f"{default_rows} rows, holdout {default_holdout}) {default[metric]:.4f}; numeric columns only "
              f"({', '.join(numeric)}; {only_rows} rows without NULLs, holdout {only_holdout}) {only[metric]:.4f}. "
              f"All metrics: default {json.dumps({k: v for k, v in default.items() if isinstance(v, float)})}; "
              f"numeric only {json.dumps({k: v for k, v in only.items() if isinstance(v, float)})}")
    assert default[metric] >= only[metric]


def _guarded_sql(meta, select):
    return "{{ config(materialized='ml_train', meta=" + meta + ") }}\n" + select + "\n"


_IRIS = "select * from {{ ref('iris') }}"
_KMEANS = "'algorithm': 'k_means', 'id_columns': ['id'], 'params': {'n_clusters': %d, 'n_init': 2}"
# 2,500 rows: `shop` has 7 values, `shop_many` one per row (an identifier posing as a category).
_ROWS = ("{{ config(materialized='view') }}\nselect g as id, 'shop_' || (g % 7) as shop, 'shop_' || g as shop_many, "
         "(g * 37 % 101) / 101.0 as x, 2.0 * (g * 37 % 101) / 101.0 + g % 7 as y "
         "from generate_series(1, 2500) as g\n")
_RIDGE = "{'target': 'y', 'algorithm': 'ridge', 'id_columns': ['id'], 'preprocessing': {'max_distinct': 1000}}"
GUARDED = {
    # case: (good model SQL, bad model SQL, the relation its scores model scores, fragments of the error)
    "regressor_on_a_text_target": (
        _guarded_sql("{'target': 'body_mass_g', 'algorithm': 'linear_regression', 'id_columns': ['id']}",
                     "select * from {{ ref('penguins') }} where body_mass_g is not null"),
        _guarded_sql("{'target': 'species', 'algorithm': 'linear_regression', 'id_columns': ['id']}",
                     "select * from {{ ref('penguins') }} where body_mass_g is not null"),
        "penguins", ["{model}", "regressor", "'species'", "type text"]),
    "clusterer_given_a_target": (
        _guarded_sql("{" + _KMEANS % 3 + ", 'exclude_columns': ['species']}", _IRIS),
        _guarded_sql("{" + _KMEANS % 3 + ", 'target': 'species'}", _IRIS),
        "iris", ["{model}", "KMeans", "without a target", "'species'"]),
    "more_clusters_than_rows": (
        _guarded_sql("{" + _KMEANS % 3 + ", 'exclude_columns': ['species']}", _IRIS),
        _guarded_sql("{" + _KMEANS % 500 + ", 'exclude_columns': ['species']}", _IRIS),
        "iris", ["{model}", "n_clusters", "500"]),
    "category_explosion_past_the_limit": (
        _guarded_sql(_RIDGE, "select id, shop, x, y from {{ ref('ds_guarded_rows') }}"),
        _guarded_sql(_RIDGE, "select id, shop_many as shop, x, y from {{ ref('ds_guarded_rows') }}"),
        "ds_guarded_rows", ["{model}", "'shop'", "2,500 distinct values", "max_distinct"]),
}


@pytest.mark.parametrize("case", GUARDED, ids=list(GUARDED))
def test_bad_input_names_model_and_column_and_changes_nothing(project, dbt_conn, case):
    """Train a good version and score with it, then the bad model: the run fails naming the model and the column or
    option, no version is registered, the same version stays deployed and scores exactly as before."""
    good, bad, scored, fragments = GUARDED[case]
    schema, model = project.schema, f"ds_guarded_{case}"
    files = {f"models/datasets_extra/{model}.sql": good, "models/datasets_extra/ds_guarded_rows.sql": _ROWS,
             f"models/datasets_extra/{model}_scores.sql": "{{ config(materialized='table') }}\n"
             f"select * from {{{{ dbt_learn.ml_score(ref('{model}'), ref('{scored}')) }}}}\n"}
    path = f"models/datasets_extra/{model}.sql"

    def deployed():
        return query(dbt_conn, "select version from dbt_learn.deployed_versions where model_schema = %s and "
                               "model_name = %s", [schema, model])

    for relative, text in files.items():
        project.write(relative, text)
    try:
        first = project.dbt("run", "-s", "ds_guarded_rows", model, f"{model}_scores")
        assert first.success, first.output
        version, serving = latest_version(dbt_conn, schema, model), deployed()
        scores_before = query(dbt_conn, f'select * from "{schema}"."{model}_scores" order by id')
        project.write(path, bad)
        result = project.dbt("run", "-s", model)
        assert not result.success
        message = result.message(model)
        for fragment in fragments:
            assert fragment.format(model=model) in message, message
        assert latest_version(dbt_conn, schema, model) == version
        assert deployed() == serving
        project.write(path, good)
        rescored = project.dbt("run", "-s", f"{model}_scores")
        assert rescored.success, rescored.output
        after = query(dbt_conn, f'select * from "{schema}"."{model}_scores" order by id')
        assert [row[:-1] for row in after] == [row[:-1] for row in scores_before]  # all but scored_at
    finally:
        for relative in files:
            project.remove(relative)
