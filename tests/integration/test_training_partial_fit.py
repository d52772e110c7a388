"""meta.partial_fit: an estimator with partial_fit trains over the whole training view in chunks (var
dbt_learn_training_chunk_mb, set tiny here so 3,000 rows make dozens of chunks). The model equals an offline
reference that runs the same preprocessing and the same per-chunk partial_fit sequence; classes missing from the
first chunks are known from the first call; the holdout is never fit and gives the usual metrics; configuration
errors are refused with the model's name; a failed training leaves the deployed version serving; and the rows are
read with the caller's privileges."""

import numpy as np
import pytest
from dbt_learn import preprocessing
from dbt_learn._partial_fit_options import chunk_rows
from dbt_learn.estimators import build_estimator

from .conftest import query

N_ROWS = 3000
CHUNK_MB = 0.004  # 4,194 bytes: 131 rows of x1, x2 and y (plus the row hash) for a regressor
TINY = {"dbt_learn_training_chunk_mb": CHUNK_MB}
SOURCES = """version: 2
sources:
  - name: pf
    schema: "{{ target.schema }}"
    tables: [{name: pf_rows}, {name: pf_sorted}]
"""


@pytest.fixture(scope="module")
def tables(project, dbt_conn):
    """pf_rows (random order) and pf_sorted (ordered by label, so the first chunks hold one class only)."""
    schema = project.schema
    rng = np.random.default_rng(7)
    x = rng.normal(size=(N_ROWS, 2))
    y = x @ [2.0, -1.0] + 0.5 + rng.normal(scale=0.1, size=N_ROWS)
    label = np.array(["a", "b", "c"])[np.digitize(x[:, 0] + x[:, 1], [-0.7, 0.7])]
    data = {"pf_rows": np.arange(N_ROWS), "pf_sorted": np.argsort(label, kind="stable")}
    for name, order in data.items():
        dbt_conn.execute(f'drop table if exists "{schema}".{name}')
        dbt_conn.execute(f'create table "{schema}".{name} (id int, x1 float8, x2 float8, y float8, label text)')
        with dbt_conn.cursor().copy(f'copy "{schema}".{name} from stdin') as copy:
            for i in order:
                copy.write_row((int(i) + 1, float(x[i, 0]), float(x[i, 1]), float(y[i]), str(label[i])))
    return schema


def _model(source, algorithm, target, partial_fit=True, holdout=0.0, params=None, extra=None, columns="x1, x2"):
    meta = {"target": target, "algorithm": algorithm, "id_columns": ["id"], "retrain_policy": "always",
            "holdout_size": holdout, "random_state": 0, "params": params or {}, "partial_fit": partial_fit,
            **(extra or {})}
    return (f"{{{{ config(materialized='ml_train', meta={meta!r}) }}}}\n"
            f"select id, {columns}, {target} from {{{{ source('pf', '{source}') }}}}\n")


def _scores(name):
    return (f"select * from {{{{ dbt_learn.ml_score(ref('{name}'), "
            f"adapter.get_relation(this.database, this.schema, 'pf_rows')) }}}}\n")


def _run(project, models, *args):
    files = {f"models/pf/{name}.sql": text for name, text in models.items()}
    files["models/pf/sources.yml"] = SOURCES
    return project.dbt_with(files, "run", "-s", *models, "--vars", str(TINY), *args)


def _rows(conn, schema, table, target):
    rows = query(conn, f'select x1, x2, {target} from "{schema}".{table}')  # the order the training scan reads
    return np.array([r[:2] for r in rows], dtype=np.float64), np.array([r[2] for r in rows])


def _reference(name, algorithm, params, X, y, epochs, seed, classes=None):
    """The same preprocessing (fitted on every row: fewer than the 100,000 of the sample) and the same per-chunk
    sequence: chunks of chunk_rows rows in scan order, each shuffled by one generator seeded with the seed."""
    features = [{"name": n, "type": "double precision", "kind": "numeric"} for n in ("x1", "x2")]
    model = preprocessing.build(name, build_estimator(name, algorithm, params, 0), features,
                                preprocessing.options(name, "auto"))
    model[:-1].fit(X)
    size = chunk_rows(int(CHUNK_MB * (1 << 20)), 8 * (2 + (classes is None)), 0)
    rng = np.random.default_rng(seed)
    kwargs = {} if classes is None else {"classes": np.arange(len(classes))}
    target = y if classes is None else np.searchsorted(classes, y)
    for _ in range(epochs):
        for start in range(0, len(X), size):
            order = rng.permutation(min(size, len(X) - start)) + start
            model[-1].partial_fit(model[:-1].transform(X[order]), target[order], **kwargs)
    return model, len(range(0, len(X), size))


def _scored(conn, schema, name):
    rows = query(conn, f'select * from "{schema}"."{name}_scores" order by id')
    names = [d.name for d in conn.execute(f'select * from "{schema}"."{name}_scores" limit 0').description]
    return {c: np.array([row[i] for row in rows]) for i, c in enumerate(names)}


def _evaluation(conn, schema, name):
    return query(conn, """select training_rows, holdout_rows, evaluation, metrics from dbt_learn.model_versions
                          where model_schema = %s and model_name = %s order by version desc limit 1""",
                 [schema, name])[0]


def test_sgd_regressor_over_many_chunks_equals_the_offline_chunk_sequence(project, dbt_conn, tables):
    params = {"max_iter": 1000, "tol": None, "eta0": 0.01}
    models = {"pf_sgd": _model("pf_rows", "sgd_regressor", "y", {"epochs": 2, "seed": 5}, params=params),
              "pf_sgd_scores": _scores("pf_sgd")}
    result = _run(project, models)
    assert result.success, result.output
    X, y = _rows(dbt_conn, tables, "pf_rows", "y")
    reference, n_chunks = _reference("pf_sgd", "sgd_regressor", params, X, y.astype(float), 2, 5)
    got = _scored(dbt_conn, tables, "pf_sgd")
    order = np.argsort([r[0] for r in query(dbt_conn, f'select id from "{tables}".pf_rows')])
    np.testing.assert_allclose(got["prediction"].astype(float), reference.predict(X[order]), rtol=0, atol=1e-8)
    rows, holdout_rows, evaluation, _ = _evaluation(dbt_conn, tables, "pf_sgd")
    summary = evaluation["partial_fit"]
    assert n_chunks > 20 and summary["chunks"] == 2 * n_chunks and summary["rows_fit"] == rows == N_ROWS
    assert summary["epochs"] == 2 and summary["preprocessing_sample_rows"] == N_ROWS and holdout_rows == 0


def test_gaussian_nb_with_classes_missing_from_the_first_chunks_equals_a_full_fit(project, dbt_conn, tables):
    from sklearn.naive_bayes import GaussianNB

    models = {"pf_nb": _model("pf_sorted", "gaussian_nb", "label"), "pf_nb_scores": _scores("pf_nb")}
    result = _run(project, models)
    assert result.success, result.output
    X, labels = _rows(dbt_conn, tables, "pf_sorted", "label")
    assert len(set(labels[:200])) == 1  # the first chunk holds a single class
    reference = GaussianNB().fit(X, labels)  # GaussianNB's partial_fit over chunks is its full fit
    got = _scored(dbt_conn, tables, "pf_nb")
    X_all, _ = _rows(dbt_conn, tables, "pf_rows", "label")
    order = np.argsort([r[0] for r in query(dbt_conn, f'select id from "{tables}".pf_rows')])
    X_all = X_all[order]
    assert got["prediction"].tolist() == reference.predict(X_all).tolist()
    for index, label in enumerate(reference.classes_):
        np.testing.assert_allclose(got[f"probability_{label}"].astype(float), reference.predict_proba(X_all)[:, index],
                                   rtol=0, atol=1e-6)


def test_the_holdout_is_never_fit_and_gives_the_usual_metrics(project, dbt_conn, tables):
    result = _run(project, {"pf_holdout": _model("pf_rows", "sgd_classifier", "label", holdout=0.25)})
    assert result.success, result.output
    rows, holdout_rows, evaluation, metrics = _evaluation(dbt_conn, tables, "pf_holdout")
    summary = evaluation["partial_fit"]
    assert rows + holdout_rows == N_ROWS and summary["holdout_rows"] == holdout_rows
    assert 600 < holdout_rows < 900  # a hash split at 0.25 of 3,000 rows: 750 expected, sd 24
    assert summary["preprocessing_sample_rows"] == rows and metrics["accuracy"] > 0.8
    assert "accuracy=" in result.output and f"{holdout_rows:,} holdout rows" in result.output


def test_a_text_feature_is_encoded_by_the_preprocessing_fitted_on_the_sample(project, dbt_conn, tables):
    models = {"pf_text": _model("pf_rows", "sgd_regressor", "y", holdout=0.2, columns="x1, x2, label"),
              "pf_text_scores": _scores("pf_text")}
    result = _run(project, models)
    assert result.success, result.output
    rows, holdout_rows, evaluation, metrics = _evaluation(dbt_conn, tables, "pf_text")
    assert rows + holdout_rows == N_ROWS and evaluation["partial_fit"]["chunks"] > 10 and metrics["r2"] > 0.95
    preprocessing_record = query(dbt_conn, """select preprocessing from dbt_learn.model_versions
                                              where model_schema = %s and model_name = 'pf_text'""", [tables])[0][0]
    assert "label" in str(preprocessing_record)
    assert len(_scored(dbt_conn, tables, "pf_text")["prediction"]) == N_ROWS


def test_a_clusterer_with_partial_fit_trains_and_scores(project, dbt_conn, tables):
    meta = {"algorithm": "mini_batch_kmeans", "params": {"n_clusters": 3, "random_state": 0}, "id_columns": ["id"],
            "retrain_policy": "always", "holdout_size": 0.2, "partial_fit": True}
    text = (f"{{{{ config(materialized='ml_train', meta={meta!r}) }}}}\n"
            f"select id, x1, x2 from {{{{ source('pf', 'pf_rows') }}}}\n")
    result = _run(project, {"pf_kmeans": text, "pf_kmeans_scores": _scores("pf_kmeans")})
    assert result.success, result.output
    rows, holdout_rows, evaluation, _ = _evaluation(dbt_conn, tables, "pf_kmeans")
    assert rows + holdout_rows == N_ROWS and evaluation["partial_fit"]["chunks"] > 10
    assert len(set(_scored(dbt_conn, tables, "pf_kmeans")["prediction"])) == 3  # every cluster is used


@pytest.mark.parametrize("meta, message", [
    ({"partial_fit": {"epochs": 0}}, "meta.partial_fit takes true, or {epochs"),
    ({"partial_fit": {"rounds": 2}}, "meta.partial_fit takes true, or {epochs"),
    ({"partial_fit": True, "sample": {"rows": 10}}, "cannot be combined with meta.sample"),
    ({"partial_fit": True, "search": {"params": {"alpha": [0.1, 1]}}}, "cannot be combined with meta.search"),
    ({"partial_fit": True, "split": "time", "split_column": "id"}, "cannot be combined with meta.split"),
])
def test_a_bad_partial_fit_configuration_is_a_compile_error(project, tables, meta, message):
    partial_fit = meta.pop("partial_fit")
    result = _run(project, {"pf_bad": _model("pf_rows", "sgd_regressor", "y", partial_fit, extra=meta)})
    assert not result.success
    assert "model 'pf_bad'" in result.output and message in result.output, result.output


def test_an_estimator_without_partial_fit_is_refused_naming_some_that_have_it(project, dbt_conn, tables):
    result = _run(project, {"pf_linear": _model("pf_rows", "linear_regression", "y")})
    assert not result.success
    message = result.message("pf_linear")
    assert "model 'pf_linear'" in message and "LinearRegression has none" in message and "sgd_regressor" in message
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s "
                           "and model_name = 'pf_linear'", [tables]) == [(0,)]


PYTHON_MODEL = '''from sklearn.linear_model import SGDRegressor


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"], "partial_fit": True})
    dbt.source("pf", "pf_rows")
    return SGDRegressor()
'''


def test_a_python_model_with_partial_fit_is_refused(project, tables):
    result = project.dbt_with({"models/pf/pf_python.py": PYTHON_MODEL, "models/pf/sources.yml": SOURCES},
                              "run", "-s", "pf_python")
    assert not result.success
    assert "meta.partial_fit applies to SQL ml_train models" in result.output


def test_a_failing_partial_fit_leaves_the_deployed_version_serving(project, dbt_conn, tables):
    good = _model("pf_rows", "sgd_regressor", "y", extra={"preprocessing": "off"})
    assert _run(project, {"pf_keep": good}).success
    deployed = query(dbt_conn, "select version from dbt_learn.deployed_versions where model_schema = %s "
                               "and model_name = 'pf_keep'", [tables])
    # Without preprocessing, NULLs past the first chunks reach SGDRegressor.partial_fit, which refuses NaN.
    bad = good.replace("select id, x1, x2", "select id, case when id > 2000 then null else x1 end as x1, x2")
    result = _run(project, {"pf_keep": bad})
    assert not result.success
    assert "model 'pf_keep'" in result.message("pf_keep") and "NULL" in result.message("pf_keep")
    assert query(dbt_conn, "select version from dbt_learn.deployed_versions where model_schema = %s "
                           "and model_name = 'pf_keep'", [tables]) == deployed
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s "
                           "and model_name = 'pf_keep'", [tables]) == [(1,)]


SPEC = ('{"task": "regression", "algorithm": "sgd_regressor", "holdout_size": 0, "partial_fit": {"epochs": 1, '
        '"seed": 0}, "features": [{"name": "x", "type": "double precision", "kind": "numeric"}], '
        '"target": {"name": "y", "type": "double precision"}}')


def test_partial_fit_reads_with_the_callers_privileges(dbt_conn, admin_conn, tables):
    secret = f"{tables}_pf_secret"
    admin_conn.execute(f'create schema "{secret}"')
    admin_conn.execute(f'create table "{secret}".rows as select 1.0::float8 as x, 2.0::float8 as y')
    rows = (f"select float8send(x) || float8send(y) as __dbt_learn_row, hashfloat8extended(x, 0) "
            f'as __dbt_learn_hash from "{secret}".rows t')
    try:
        with pytest.raises(Exception, match="permission denied"):
            query(dbt_conn, "select dbt_learn.train_query(%s, 'pf_reader', %s::jsonb, %s)", [tables, SPEC, rows])
    finally:
        admin_conn.execute(f'drop schema "{secret}" cascade')


def test_an_enum_target_scores_as_text_and_an_infinite_feature_is_refused_naming_it(project, tables, dbt_conn):
    """Issue 13's input matrix on the partial_fit path: an enum target is recorded and scored as text (it trained and
    could never be scored before), and Infinity in a feature is refused naming the column before anything is
    registered (it was scikit-learn's raw ValueError)."""
    schema = tables
    dbt_conn.execute(f"do $$ begin create type \"{schema}\".pf_label as enum ('a', 'b', 'c'); "
                     f"exception when duplicate_object then null; end $$")
    enum = _model("pf_rows", "gaussian_nb", "label").replace(
        "label from", "label::{{ target.schema }}.pf_label as label from")
    infinite = _model("pf_rows", "sgd_regressor", "y", columns="case when id = 5 then 'infinity'::float8 else x1 end "
                                                                "as x1, x2")
    scores = ("select id, prediction from {{ dbt_learn.ml_score(ref('pf_enum'), "
              "adapter.get_relation(this.database, this.schema, 'pf_rows')) }}\n")
    result = _run(project, {"pf_enum": enum, "pf_enum_scores": scores, "pf_infinite": infinite})
    assert result.status("pf_enum") == "success", result.output
    assert result.status("pf_enum_scores") == "success", result.output
    predictions = {row[0] for row in query(dbt_conn, f'select prediction from "{schema}".pf_enum_scores')}
    assert predictions <= {"a", "b", "c"} and predictions
    assert query(dbt_conn, "select target_type from dbt_learn.model_versions where model_schema = %s and "
                           "model_name = 'pf_enum'", [schema]) == [("text",)]
    message = result.message("pf_infinite")
    assert "model 'pf_infinite': feature column 'x1' has Infinity or -Infinity in 1 of the" in message, message
    assert "Traceback" not in message.split("CONTEXT")[0]
    assert query(dbt_conn, "select count(*) from dbt_learn.model_versions where model_schema = %s and "
                           "model_name = 'pf_infinite'", [schema]) == [(0,)]
