"""A version whose recorded scikit-learn cannot load safely in this runtime is refused before unpickling, with a
message naming the model, the version and both versions; nothing persisted changes (issue 13, security item (f))."""

import psycopg
import pytest

from dbt_learn._library_check import running_version

from .conftest import query

MODEL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'linear_regression', 'id_columns': ['id']}) }}
select * from {{ ref('linear_training') }}
"""
SCORES = """{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('libver_model'), ref('linear_new')) }}
"""
FILES = {"models/libver/libver_model.sql": MODEL, "models/libver/libver_scores.sql": SCORES}


def _scores(conn, schema):
    return query(conn, f'select id, prediction, model_version, scored_at from "{schema}".libver_scores order by id')


def _deploy(conn, schema, version):
    answer = query(conn, "select dbt_learn.deploy(%s, 'libver_model', %s, 'manual', 'test')", [schema, version])[0][0]
    assert "error" not in answer, answer
    return answer


def test_a_version_trained_with_another_scikit_learn_minor_is_refused(project, admin_conn, dbt_conn):
    schema = project.schema
    for path, text in FILES.items():
        project.write(path, text)
    try:
        result = project.dbt("run", "-s", "libver_model", "libver_scores")
        assert result.success, result.output
        before = _scores(dbt_conn, schema)
        assert before and {row[2] for row in before} == {1}
        # v2: a copy of v1's registry row and artifact, recorded as trained with scikit-learn 1.0.2
        admin_conn.execute("""insert into dbt_learn.model_versions
                              select (jsonb_populate_record(v, jsonb_build_object(
                                  'version', 2, 'library_versions',
                                  v.library_versions || '{"scikit-learn": "1.0.2"}'::jsonb))).*
                              from dbt_learn.model_versions as v
                              where model_schema = %s and model_name = 'libver_model' and version = 1""", [schema])
        admin_conn.execute("""insert into dbt_learn.model_artifacts
                              select (jsonb_populate_record(a, jsonb_build_object('version', 2))).*
                              from dbt_learn.model_artifacts as a
                              where model_schema = %s and model_name = 'libver_model' and version = 1""", [schema])
        _deploy(dbt_conn, schema, 2)
        running = running_version("scikit-learn")
        expected = (f"model 'libver_model': version 2 was trained with scikit-learn 1.0.2, but this runtime has "
                    f"scikit-learn {running}; a pickled estimator does not load safely across scikit-learn minor "
                    f"releases. Retrain it: dbt run --full-refresh -s libver_model, or deploy a version trained "
                    f"with scikit-learn 1.0.")

        result = project.dbt("run", "-s", "libver_scores")
        assert result.status("libver_scores") == "error"
        assert expected in result.message("libver_scores"), result.message("libver_scores")
        # PL/Python adds its function context (CONTEXT: Traceback ... PL/Python function "score_relation") to every
        # error a PL/Python function raises; the error itself is the message, not a Python exception
        assert f"plpy.Error: {expected}" in result.message("libver_scores")
        assert _scores(dbt_conn, schema) == before
        with pytest.raises(psycopg.Error) as raised:
            dbt_conn.execute("select dbt_learn.predict(%s, 'libver_model', 1.0::float8, 2.0::float8)", [schema])
        assert expected in str(raised.value), str(raised.value)
        assert str(raised.value).splitlines()[0].endswith(expected), str(raised.value)
        assert query(dbt_conn, "select max(version) from dbt_learn.model_versions where model_schema = %s "
                               "and model_name = 'libver_model'", [schema])[0][0] == 2  # nothing new registered

        _deploy(dbt_conn, schema, 1)
        result = project.dbt("run", "-s", "libver_scores")
        assert result.success, result.output
        after = _scores(dbt_conn, schema)
        assert [row[:3] for row in after] == [row[:3] for row in before]
        assert query(dbt_conn, "select dbt_learn.predict(%s, 'libver_model', 1.0::float8, 2.0::float8)",
                     [schema])[0][0] is not None
    finally:
        for path in FILES:
            project.remove(path)
