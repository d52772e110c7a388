"""Loading a version never runs code the admin has not allowed (issue 13, security item (a)): a Python model's pickle
whose __reduce__ runs code is refused once Python models are off, a version in the skops format still scores, and a
tampered artifact is refused with its message; nothing persisted changes."""

import os
import pathlib
import shutil
import tempfile

import psycopg
import pytest

from .conftest import query
from .harness import connection_info

# A fitted LinearRegression whose pickle, when loaded, appends a line to MARKER_PATH and then rebuilds the plain
# estimator (so scoring works when it is allowed): the code a hostile Python model could hide in its artifact.
SNEAKY = '''import pickle

from sklearn.linear_model import LinearRegression


class Sneaky(LinearRegression):
    def __reduce__(self):
        plain = LinearRegression()
        plain.__dict__.update(self.__dict__)
        code = "(open(%r, 'a').write('ran\\\\n'), __import__('pickle').loads(%r))[1]" % (
            "MARKER_PATH", pickle.dumps(plain))
        return (eval, (code,))


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"]})
    frame = dbt.ref("linear_training")
    return Sneaky().fit(frame[["x1"]], frame["y"])
'''
PLAIN = '''from sklearn.linear_model import LinearRegression


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "y", "id_columns": ["id"]})
    frame = dbt.ref("linear_training")
    return LinearRegression().fit(frame[["x1"]], frame["y"])
'''
SCORES = ("{{{{ config(materialized='table') }}}}\n"
          "select id, prediction from {{{{ dbt_learn.ml_score(ref('{}'), ref('linear_new')) }}}}")
REFUSAL = ("model 'trust_sneaky': version 1 was trained by a Python model and its artifact is a pickle, which can run "
           "code when loaded; this database no longer allows Python models, so it is not loaded. Retrain it as a SQL "
           "ml_train model, or ask the database admin to allow Python models (dbt_learn.install with "
           "allow_python_models: true).")


@pytest.fixture
def marker():
    # written by the database server's OS user: a folder it may write to, removed afterwards
    folder = pathlib.Path(tempfile.mkdtemp(prefix="dbt_learn_trust_"))
    os.chmod(folder, 0o777)
    yield folder / "ran.txt"
    shutil.rmtree(folder, ignore_errors=True)


def _lines(path):
    return path.read_text().splitlines() if path.exists() else []


def _registry(conn, schema, name):
    return query(conn, "select version, artifact_sha256, dbt_learn.serving_version(model_schema, model_name) "
                       "from dbt_learn.model_versions where model_schema = %s and model_name = %s order by version",
                 [schema, name])


def _predict(conn, schema, name):
    return query(conn, "select dbt_learn.predict(%s, %s, 1.0::float8)", [schema, name])[0][0]


def _python_models(admin_conn, allowed):
    admin_conn.execute("update dbt_learn.installation set python_models_allowed = %s", [allowed])


def test_a_python_models_pickle_is_not_loaded_once_python_models_are_off(project, admin_conn, marker):
    schema = project.schema
    files = {"models/trust/trust_sneaky.py": SNEAKY.replace("MARKER_PATH", str(marker)),
             "models/trust/trust_plain.py": PLAIN}
    result = project.dbt_with(files, "run", "-s", "trust_sneaky", "trust_plain")
    assert result.success, result.output
    artifacts = dict(query(admin_conn, "select model_name, substr(artifact, 1, 4) from dbt_learn.model_artifacts "
                                       "where model_schema = %s and model_name like 'trust_%%'", [schema]))
    assert bytes(artifacts["trust_sneaky"])[:1] == b"\x80"  # a class skops does not trust: saved as a pickle
    assert bytes(artifacts["trust_plain"]) == b"PK\x03\x04"  # plain scikit-learn: saved with skops
    marker.unlink(missing_ok=True)  # whatever training did: from here on only loading counts
    registry = {name: _registry(admin_conn, schema, name) for name in ("trust_sneaky", "trust_plain")}
    score_files = {f"models/trust/{name}_scores.sql": SCORES.format(name) for name in ("trust_sneaky", "trust_plain")}
    score_names = [f"{name}_scores" for name in ("trust_sneaky", "trust_plain")]

    # A pooled backend that loaded the pickle while it was allowed (its code ran then: the marker is reset after).
    pooled = psycopg.connect(**connection_info(), autocommit=True)
    assert _predict(pooled, schema, "trust_sneaky") is not None
    marker.unlink(missing_ok=True)
    # A fresh connection: no backend has this version cached, so the artifact is loaded under the switch now.
    _python_models(admin_conn, False)
    try:
        with psycopg.connect(**connection_info(), autocommit=True) as conn:
            with pytest.raises(psycopg.Error) as raised:
                _predict(conn, schema, "trust_sneaky")
            plain_prediction = _predict(conn, schema, "trust_plain")
        with pytest.raises(psycopg.Error) as raised_pooled:  # the switch holds for what a backend cached before
            _predict(pooled, schema, "trust_sneaky")
        run = project.dbt_with({**files, **score_files}, "run", "-s", *score_names)
    finally:
        _python_models(admin_conn, True)
        pooled.close()
    assert str(raised.value).splitlines()[0].endswith(REFUSAL), str(raised.value)
    assert str(raised_pooled.value).splitlines()[0].endswith(REFUSAL), str(raised_pooled.value)
    assert run.status("trust_sneaky_scores") == "error"
    assert REFUSAL in run.message("trust_sneaky_scores"), run.message("trust_sneaky_scores")
    assert run.status("trust_plain_scores") == "success", run.output  # the skops version still scores
    assert plain_prediction is not None
    assert _lines(marker) == []  # nothing ran
    assert {name: _registry(admin_conn, schema, name) for name in registry} == registry  # nothing changed

    # While Python models are allowed the same artifact loads, and its code runs: what the refusal prevents.
    with psycopg.connect(**connection_info(), autocommit=True) as conn:
        assert _predict(conn, schema, "trust_sneaky") is not None
    assert _lines(marker) == ["ran"]


def test_a_tampered_artifact_is_refused_with_its_message(project, admin_conn, dbt_conn):
    schema = project.schema
    result = project.dbt_with({"models/trust/trust_tampered.py": PLAIN}, "run", "-s", "trust_tampered")
    assert result.success, result.output
    # v2: v1's registry row with v1's artifact one byte longer (the registry is append-only: no UPDATE needed)
    admin_conn.execute("""insert into dbt_learn.model_versions
                          select (jsonb_populate_record(v, jsonb_build_object('version', 2))).*
                          from dbt_learn.model_versions as v
                          where model_schema = %s and model_name = 'trust_tampered' and version = 1""", [schema])
    admin_conn.execute("""insert into dbt_learn.model_artifacts (model_schema, model_name, version, artifact)
                          select model_schema, model_name, 2, artifact || '\\x00'::bytea
                          from dbt_learn.model_artifacts
                          where model_schema = %s and model_name = 'trust_tampered' and version = 1""", [schema])
    answer = query(dbt_conn, "select dbt_learn.deploy(%s, 'trust_tampered', 2, 'manual', 'test')", [schema])[0][0]
    assert "error" not in answer, answer
    registry = _registry(admin_conn, schema, "trust_tampered")
    with pytest.raises(psycopg.Error) as raised:
        _predict(dbt_conn, schema, "trust_tampered")
    first = str(raised.value).splitlines()[0]
    assert "model 'trust_tampered': the stored artifact's sha256 is " in first, first
    assert first.endswith("; the artifact was altered. Retrain the model."), first
    assert _registry(admin_conn, schema, "trust_tampered") == registry
