"""Row-level scoring: dbt_learn.predict / predict_class / predict_proba and the ml_predict macro agree with the
batch scores of ml_score, use the serving version, and refuse bad calls with a message that says what to do."""

import uuid

import numpy as np
import psycopg
import pytest
from psycopg import sql

from .conftest import latest_version, query
from .harness import connect, connection_info

VIEW = """{{ config(materialized='view') }}
select n.id,
       {{ dbt_learn.ml_predict(ref('linear_model'), 'n') }} as linear_prediction
from {{ ref('linear_new') }} as n
"""
LABEL_VIEW = """{{ config(materialized='view') }}
select n.id,
       {{ dbt_learn.ml_predict(ref('label_model'), 'n', output='class') }} as label,
       {{ dbt_learn.ml_predict(ref('label_model'), 'n', output='probabilities') }} as probabilities
from {{ ref('labels_new') }} as n
"""


@pytest.fixture(scope="module")
def online_views(project):
    project.write("models/online/linear_online.sql", VIEW)
    project.write("models/online/label_online.sql", LABEL_VIEW)
    result = project.dbt("run", "-s", "linear_online", "label_online")
    assert result.success, result.output
    yield
    project.remove("models/online/linear_online.sql")
    project.remove("models/online/label_online.sql")


def test_a_view_scoring_row_by_row_matches_the_batch_scores(project, dbt_conn, online_views):
    schema = project.schema
    rows = query(dbt_conn, f"""select o.linear_prediction, s.prediction from "{schema}".linear_online o
                               join "{schema}".linear_scores s using (id) order by id""")
    assert len(rows) == 12
    np.testing.assert_allclose([r[0] for r in rows], [r[1] for r in rows], rtol=0, atol=1e-9)


def test_classifier_rows_give_the_label_and_the_probabilities_in_class_order(project, dbt_conn, online_views):
    schema = project.schema
    rows = query(dbt_conn, f"""select o.label, o.probabilities, s.* from "{schema}".label_online o
                               join "{schema}".label_scores s using (id) order by id""")
    columns = [d.name for d in dbt_conn.execute(f'select * from "{schema}".label_scores limit 0').description]
    probability_columns = [c for c in columns if c.startswith("probability_")]
    assert rows
    for label, probabilities, *scored in rows:
        batch = dict(zip(columns, scored))
        assert label == batch["prediction"]
        np.testing.assert_allclose(probabilities, [batch[c] for c in probability_columns], rtol=0, atol=1e-12)


def test_row_level_predict_refuses_bad_calls_with_what_to_do(project, dbt_conn):
    schema = project.schema
    with pytest.raises(psycopg.errors.InternalError_, match=r"got 1 feature values, the model takes 2"):
        dbt_conn.execute("select dbt_learn.predict(%s, 'linear_model', 1.0)", [schema])
    with pytest.raises(psycopg.errors.InternalError_, match=r"is a classifier: use dbt_learn.predict_class"):
        dbt_conn.execute("select dbt_learn.predict(%s, 'label_model', 1, 2)", [schema])
    with pytest.raises(psycopg.errors.InternalError_, match=r"no trained version"):
        dbt_conn.execute("select dbt_learn.predict(%s, 'no_such_model', 1, 2)", [schema])


def test_row_level_predict_follows_a_new_version_and_a_rollback_at_once(project, dbt_conn):
    """The estimator is cached per connection by version, never by name: the next call sees a deployment change."""
    schema, path = project.schema, "models/online/online_model.sql"
    model = """{{{{ config(materialized='ml_train', meta={{'target': 'y', 'algorithm': 'linear_regression',
        'params': {params}, 'id_columns': ['id'], 'holdout_size': 0}}) }}}}
select * from {{{{ ref('linear_training') }}}}"""

    def predict():
        return query(dbt_conn, "select dbt_learn.predict(%s, 'online_model', 1, 1)", [schema])[0][0]

    first = project.dbt_with({path: model.format(params="{}")}, "run", "-s", "online_model")
    assert first.success, first.output
    with_intercept = predict()
    assert with_intercept == pytest.approx(1 + 2 - 3, abs=1e-9)  # y = 1 + 2 x1 - 3 x2 exactly
    second = project.dbt_with({path: model.format(params="{'fit_intercept': False}")}, "run", "-s", "online_model")
    assert second.success, second.output
    assert predict() != pytest.approx(with_intercept, abs=1e-6)  # same connection: v2 now serves
    back = project.dbt_with({path: model.format(params="{'fit_intercept': False}")}, "run-operation",
                            "dbt_learn.rollback", "--args", "{model: online_model}")
    assert back.success, back.output
    assert predict() == pytest.approx(with_intercept, abs=1e-9)


ROW_MODELS = {  # name: (target, algorithm, params, extra meta); covered by _row_predictors but online_knn
    "online_linear": ("y", "linear_regression", {}, {}),
    "online_trees": ("y", "hist_gradient_boosting_regressor", {"max_iter": 20}, {}),
    "online_knn": ("y", "k_neighbors_regressor", {}, {}),
    "online_logistic": ("label", "logistic_regression", {}, {"threshold": 0.3}),
    "online_multi": ("kind", "hist_gradient_boosting_classifier", {"max_iter": 10}, {}),
}


def _row_model(schema, target, algorithm, params, meta):
    config = {"target": target, "algorithm": algorithm, "params": params, "id_columns": ["id"], **meta}
    return (f"{{{{ config(materialized='ml_train', meta={config!r}) }}}}\n"
            f'select id, a, b, c, {target} from "{schema}"."online_rows"')


def _estimator(admin_conn, schema, name, version=None):
    """The registered estimator of a version (default: the newest) and its class labels."""
    from dbt_learn.serialization import load_exported

    version = version or latest_version(admin_conn, schema, name)
    artifact, classes = query(admin_conn, """select a.artifact, v.classes from dbt_learn.model_artifacts a
        join dbt_learn.model_versions v using (model_schema, model_name, version)
        where model_schema = %s and model_name = %s and version = %s""", [schema, name, version])[0]
    return load_exported(artifact, name), classes


@pytest.fixture(scope="module")
def row_models(project, dbt_conn):
    """240 rows of three float features with NULLs, a number, a two-class and a three-class label; the models of
    ROW_MODELS trained on them in one dbt run."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(240, 3)) * [1.0, 5.0, 0.2]
    X[rng.random(X.shape) < 0.1] = np.nan
    y = np.nan_to_num(X) @ [2.0, -0.3, 4.0] + rng.normal(scale=0.3, size=240)
    rows = [(i + 1, *[None if np.isnan(v) else float(v) for v in x], float(t), "yes" if t > 0.5 else "no",
             "pqr"[int(np.digitize(t, [-1.0, 1.0]))]) for i, (x, t) in enumerate(zip(X, y))]
    schema = project.schema
    dbt_conn.execute(f'create table "{schema}".online_rows (id int, a float8, b float8, c float8, y float8, '
                     f'label text, kind text)')
    with dbt_conn.cursor().copy(f'copy "{schema}".online_rows from stdin') as copy:
        for row in rows:
            copy.write_row(row)
    files = {f"models/online/{name}.sql": _row_model(schema, *spec) for name, spec in ROW_MODELS.items()}
    result = project.dbt_with(files, "run", "-s", *ROW_MODELS)
    assert result.success, result.output
    return np.array([[np.nan if v is None else v for v in row[1:4]] for row in rows])


@pytest.mark.parametrize("name", list(ROW_MODELS))
def test_row_level_scores_equal_the_registered_estimators_own_predictions(project, dbt_conn, admin_conn, row_models,
                                                                         name):
    """Both forms (variadic float8 and jsonb), to 1e-12 against estimator.predict / predict_proba of the artifact;
    classes exactly (with the model's meta.threshold)."""
    schema, X = project.schema, row_models
    estimator, classes = _estimator(admin_conn, schema, name)
    as_json = "jsonb_build_object('a', a, 'b', b, 'c', c)"
    if ROW_MODELS[name][0] == "y":
        got = query(dbt_conn, f"""select dbt_learn.predict(%(s)s, %(m)s, a, b, c), dbt_learn.predict(%(s)s, %(m)s,
                                  {as_json}) from "{schema}".online_rows order by id""", {"s": schema, "m": name})
        expected = estimator.predict(X)
        for column in (0, 1):
            np.testing.assert_allclose([r[column] for r in got], expected, rtol=1e-12, atol=1e-12)
        return
    got = query(dbt_conn, f"""select dbt_learn.predict_class(%(s)s, %(m)s, a, b, c),
                                     dbt_learn.predict_class(%(s)s, %(m)s, {as_json}),
                                     dbt_learn.predict_proba(%(s)s, %(m)s, a, b, c),
                                     dbt_learn.predict_proba(%(s)s, %(m)s, {as_json})
                              from "{schema}".online_rows order by id""", {"s": schema, "m": name})
    probabilities = estimator.predict_proba(X)
    threshold = ROW_MODELS[name][3].get("threshold")
    index = ((probabilities[:, 1] >= threshold).astype(int) if threshold is not None
             else np.searchsorted(estimator.classes_, estimator.predict(X)))
    expected_labels = [classes[i] for i in index]
    assert [r[0] for r in got] == expected_labels and [r[1] for r in got] == expected_labels
    for column in (2, 3):
        np.testing.assert_allclose([r[column] for r in got], probabilities, rtol=1e-12, atol=1e-12)


def test_a_deploy_or_rollback_is_seen_on_the_next_call_of_the_same_session(project, dbt_conn, admin_conn, row_models):
    """The backend keeps the estimator cached, but every call resolves the serving version: a deployment made by
    another session, or earlier in this transaction (and undone with it), changes the very next call."""
    schema, path = project.schema, "models/online/online_versions.sql"
    for params in ({"C": 0.01}, {"C": 10.0}):
        trained = project.dbt_with({path: _row_model(schema, "label", "logistic_regression", params, {})},
                                   "run", "-s", "online_versions")
        assert trained.success, trained.output
    row = [0.7, -1.0, 0.3]
    expected = {version: _estimator(admin_conn, schema, "online_versions", version) for version in (1, 2)}

    def scores():
        proba, label = query(dbt_conn, """
            select dbt_learn.predict_proba(%(s)s, 'online_versions', %(a)s, %(b)s, %(c)s),
                   dbt_learn.predict_class(%(s)s, 'online_versions',
                                           jsonb_build_object('a', %(a)s, 'b', %(b)s, 'c', %(c)s))""",
                             {"s": schema, "a": row[0], "b": row[1], "c": row[2]})[0]
        matches = [v for v, (estimator, classes) in expected.items()
                   if np.allclose(proba, estimator.predict_proba([row])[0], rtol=0, atol=1e-12)
                   and label == classes[int(np.searchsorted(estimator.classes_, estimator.predict([row]))[0])]]
        assert len(matches) == 1, (proba, label)
        return matches[0]

    def deploy(conn, version):
        answer = query(conn, "select dbt_learn.deploy(%s, 'online_versions', %s, 'manual', 'test')", [schema, version])
        assert "error" not in answer[0][0], answer

    with connect() as other:
        assert scores() == 2  # the newest version serves
        deploy(other, 1)
        assert scores() == 1
        with dbt_conn.transaction():
            deploy(dbt_conn, 2)
            assert scores() == 2
            raise psycopg.Rollback()
        assert scores() == 1
        deploy(other, 2)
        assert scores() == 2
        answer = query(other, "select dbt_learn.rollback(%s, 'online_versions', 'test')", [schema])[0][0]
        assert answer["deployed_version"] == 1, answer
        assert scores() == 1


def test_the_dbt_role_cannot_call_score_row_with_a_version_of_its_choosing(project, dbt_conn, row_models):
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        dbt_conn.execute("select dbt_learn.score_row(%s, 'online_linear', true, 1, 'x', array[1, 2, 3]::float8[], "
                         "'value')", [project.schema])


def test_a_revoked_usage_on_the_models_schema_is_seen_on_the_next_call(project, admin_conn, row_models):
    schema, role, password = project.schema, f"it_reader_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    estimator, _ = _estimator(admin_conn, schema, "online_linear")
    ident = sql.Identifier(role)
    admin_conn.execute(sql.SQL("create role {} login password {}").format(ident, sql.Literal(password)))
    try:
        for grant in ("grant usage on schema dbt_learn to {}", "grant usage on schema {schema} to {}",
                      "grant execute on function dbt_learn.predict(text, text, double precision[]) to {}"):
            admin_conn.execute(sql.SQL(grant).format(ident, schema=sql.Identifier(schema)))
        with psycopg.connect(**{**connection_info(), "user": role, "password": password}, autocommit=True) as reader:
            value = query(reader, "select dbt_learn.predict(%s, 'online_linear', 1, 2, 3)", [schema])[0][0]
            assert value == pytest.approx(estimator.predict([[1, 2, 3]])[0], rel=1e-12)
            admin_conn.execute(sql.SQL("revoke usage on schema {} from {}").format(sql.Identifier(schema), ident))
            with pytest.raises(psycopg.errors.InternalError_, match=rf"role {role} cannot score with models in schema"):
                reader.execute("select dbt_learn.predict(%s, 'online_linear', 1, 2, 3)", [schema])
    finally:
        admin_conn.execute(sql.SQL("drop owned by {}").format(ident))
        admin_conn.execute(sql.SQL("drop role {}").format(ident))
