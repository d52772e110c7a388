"""Streaming scoring through dbt: ml_score in many small chunks (dbt_learn_score_chunk_mb) gives exactly the rows of
one chunk, ids of every type (NULLs included) come back as they went in, and the runtime's temporary tables cannot be
pointed at a table of the caller's."""

import json

import psycopg
import pytest

from .conftest import query

ID_COLUMNS = ["id", "code", "uid", "day", "amount"]


@pytest.fixture(scope="module")
def streamed(project, dbt_conn):
    schema = project.schema
    dbt_conn.execute(f"""
        create table "{schema}".stream_rows as
        select g as id,
               case when g % 7 = 0 then null else 'c-' || g end as code,
               case when g % 11 = 0 then null else md5(g::text)::uuid end as uid,
               date '2024-01-01' + (g % 400) as day,
               case when g % 13 = 0 then null else (g * 1.25)::numeric(12, 2) end as amount,
               sin(g) * 3 as x1, case when g % 17 = 0 then null else cos(g * 0.7) end as x2,
               (array['red', 'green', 'blue', null])[1 + g % 4] as color,
               timestamp '2024-01-01' + g * interval '37 minutes' as seen,
               case when sin(g) + cos(g * 0.7) > 0.3 then 'yes' else 'no' end as label,
               sin(g) * 2 + g % 5 as amount_spent
        from generate_series(1, 3000) g""")
    # A view is streamed through a cursor, a table by block ranges: both are checked against one chunk.
    dbt_conn.execute(f'create view "{schema}".stream_rows_view as select * from "{schema}".stream_rows')
    ids = repr(ID_COLUMNS)
    models = {
        "models/streaming/stream_classifier.sql": f"""
{{{{ config(materialized='ml_train', meta={{'target': 'label', 'algorithm': 'logistic_regression',
     'id_columns': {ids}}}) }}}}
select id, code, uid, day, amount, x1, x2, color, seen, label from "{schema}".stream_rows""",
        "models/streaming/stream_regressor.sql": f"""
{{{{ config(materialized='ml_train', meta={{'target': 'amount_spent', 'algorithm': 'random_forest_regressor',
     'params': {{'n_estimators': 5, 'max_depth': 4}}, 'id_columns': {ids}}}) }}}}
select id, code, uid, day, amount, x1, x2, color, seen, amount_spent from "{schema}".stream_rows""",
    }
    for kind in ("classifier", "regressor"):
        models[f"models/streaming/stream_{kind}_scores.sql"] = f"""
{{{{ config(materialized='table') }}}}
select * from {{{{ dbt_learn.ml_score(ref('stream_{kind}'),
    adapter.get_relation(this.database, '{schema}', 'stream_rows'), id_columns={ids}, explain=2) }}}}"""
    models["models/streaming/stream_classifier_view_scores.sql"] = f"""
{{{{ config(materialized='table') }}}}
select * from {{{{ dbt_learn.ml_score(ref('stream_classifier'),
    adapter.get_relation(this.database, '{schema}', 'stream_rows_view'), id_columns={ids}, explain=2) }}}}"""
    for path, text in models.items():
        project.write(path, text)
    result = project.dbt("run", "-s", "streaming")
    assert result.success, result.output
    whole = {kind: _rows(dbt_conn, schema, f"stream_{kind}_scores") for kind in ("classifier", "regressor")}
    # About 100 rows per chunk: 30 chunks, predicted in a worker thread while the next is read (two threads).
    result = project.dbt("run", "-s", "stream_classifier_scores", "stream_regressor_scores",
                         "stream_classifier_view_scores", "--vars", json.dumps({"dbt_learn_score_chunk_mb": 0.01,
                                                                  "dbt_learn_threads_per_model": 2}))
    assert result.success, result.output
    chunked = {kind: _rows(dbt_conn, schema, f"stream_{kind}_scores")
               for kind in ("classifier", "regressor", "classifier_view")}
    return whole, chunked


def _rows(conn, schema, table):
    columns = [d.name for d in conn.execute(f'select * from "{schema}"."{table}" limit 0').description]
    rows = query(conn, f'select * from "{schema}"."{table}" order by id')
    return [{c: v for c, v in zip(columns, row) if c != "scored_at"} for row in rows]


@pytest.mark.parametrize("kind", ["classifier", "regressor", "classifier_view"])
def test_many_chunks_give_the_rows_of_one(streamed, kind):
    whole, chunked = streamed
    expected = whole[kind.replace("_view", "")]
    assert len(expected) == 3000
    assert chunked[kind] == expected


def test_ids_of_every_type_come_back_unchanged(project, dbt_conn, streamed):
    whole, chunked = streamed
    source = query(dbt_conn, f'select {", ".join(ID_COLUMNS)} from "{project.schema}".stream_rows order by id')
    for rows in (whole["classifier"], chunked["classifier"]):
        assert [tuple(row[c] for c in ID_COLUMNS) for row in rows] == source
    types = dict(query(dbt_conn, "select column_name, data_type from information_schema.columns "
                                 "where table_schema = %s and table_name = 'stream_classifier_scores'",
                       [project.schema]))
    assert [types[c] for c in ID_COLUMNS] == ["integer", "text", "uuid", "date", "numeric"]


def test_probabilities_and_explanations_survive_chunking(streamed):
    whole, chunked = streamed
    first = chunked["classifier"][0]
    assert set(first) >= {"prediction", "probability_no", "probability_yes", "explanation", "model_version"}
    assert all(abs(r["probability_no"] + r["probability_yes"] - 1) < 1e-12 for r in chunked["classifier"])
    assert all(len(r["explanation"]) == 2 for r in chunked["regressor"])


def test_a_bad_chunk_setting_is_refused_and_the_table_stays(project, dbt_conn, streamed):
    before = query(dbt_conn, f'select count(*) from "{project.schema}".stream_regressor_scores')[0][0]
    result = project.dbt("run", "-s", "stream_regressor_scores", "--vars", json.dumps({"dbt_learn_score_chunk_mb": 0}))
    assert not result.success
    assert "dbt_learn_score_chunk_mb must be a positive number" in result.output
    assert query(dbt_conn, f'select count(*) from "{project.schema}".stream_regressor_scores')[0][0] == before


def test_the_runtime_tables_cannot_be_pointed_at_the_callers_own(dbt_conn):
    pid = query(dbt_conn, "select pg_backend_pid()")[0][0]
    with dbt_conn.transaction():
        dbt_conn.execute(f"create temporary table dbt_learn_scores_{pid}_1 (n_rows int8) on commit drop")
        for statement in (f"select * from dbt_learn.read_scores('dbt_learn_scores_{pid}_1') as t(n_rows int8)",
                          f"select dbt_learn.append_scores('dbt_learn_scores_{pid}_1', '\\x00'::bytea)",
                          "select * from dbt_learn.read_scores('pg_class') as t(oid oid)"):
            with pytest.raises(psycopg.Error) as error:
                with dbt_conn.transaction():
                    dbt_conn.execute(statement)
            assert "is not a scoring table of this session" in str(error.value)


@pytest.mark.parametrize("relation", ["stream_rows", "stream_rows_view"])
def test_an_empty_relation_scores_to_an_empty_table_with_every_column(project, dbt_conn, streamed, relation):
    schema = project.schema
    empty = f"{relation}_empty"
    dbt_conn.execute(f'create table "{schema}".{empty} as select * from "{schema}".{relation} where false'
                     if relation == "stream_rows" else
                     f'create view "{schema}".{empty} as select * from "{schema}".stream_rows where false')
    model = f"""{{{{ config(materialized='table') }}}}
select * from {{{{ dbt_learn.ml_score(ref('stream_classifier'),
    adapter.get_relation(this.database, '{schema}', '{empty}'), id_columns={ID_COLUMNS!r}) }}}}"""
    result = project.dbt_with({f"models/streaming/{empty}_scores.sql": model}, "run", "-s", f"{empty}_scores")
    assert result.success, result.output
    columns = [d.name for d in dbt_conn.execute(f'select * from "{schema}".{empty}_scores limit 0').description]
    assert columns[:len(ID_COLUMNS)] == ID_COLUMNS and "prediction" in columns and "model_version" in columns
    assert query(dbt_conn, f'select count(*) from "{schema}".{empty}_scores') == [(0,)]
