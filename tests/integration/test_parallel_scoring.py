"""Parallel scoring through dbt: with two threads per model, ml_score splits a table into block ranges that Postgres'
parallel workers score (Parallel Append), and the scores equal those of the one-process stream exactly - ids of
every type, probabilities, explanations and text features included. The functions a worker runs check the caller's
privilege in SQL and cannot be called around the wrapper."""

import json

import psycopg
import pytest

from .conftest import query

ID_COLUMNS = ["id", "code", "uid", "day"]
# Every table counts as large, and about 6 blocks per range: several branches even for a small table.
PARALLEL = {"dbt_learn_threads_per_model": 2, "dbt_learn_parallel_scoring_min_mb": 0, "dbt_learn_score_chunk_mb": 0.05}
SERIAL = {"dbt_learn_threads_per_model": 1}


@pytest.fixture(scope="module")
def scored(project, dbt_conn):
    schema = project.schema
    dbt_conn.execute(f"""
        create table "{schema}".parallel_rows as
        select g as id, case when g % 7 = 0 then null else 'c-' || g end as code,
               case when g % 11 = 0 then null else md5(g::text)::uuid end as uid,
               date '2024-01-01' + (g % 400) as day,
               sin(g) * 3 as x1, case when g % 17 = 0 then null else cos(g * 0.7) end as x2,
               (array['red', 'green', 'blue', null])[1 + g % 4] as color,
               case when sin(g) + cos(g * 0.7) > 0.3 then 'yes' else 'no' end as label
        from generate_series(1, 4000) g""")
    ids = repr(ID_COLUMNS)
    project.write("models/parallel/parallel_classifier.sql", f"""
{{{{ config(materialized='ml_train', meta={{'target': 'label', 'algorithm': 'logistic_regression',
     'id_columns': {ids}}}) }}}}
select * from "{schema}".parallel_rows""")
    project.write("models/parallel/parallel_scores.sql", f"""
{{{{ config(materialized='table') }}}}
select * from {{{{ dbt_learn.ml_score(ref('parallel_classifier'),
    adapter.get_relation(this.database, '{schema}', 'parallel_rows'), id_columns={ids}, explain=2) }}}}""")
    result = project.dbt("run", "-s", "parallel_classifier", "parallel_scores", "--vars", json.dumps(SERIAL))
    assert result.success, result.output
    serial = _rows(dbt_conn, schema)
    result = project.dbt("run", "-s", "parallel_scores", "--vars", json.dumps(PARALLEL))
    assert result.success, result.output
    compiled = (project.root / "target" / "run").rglob("parallel_scores.sql")
    return serial, _rows(dbt_conn, schema), next(compiled).read_text()


def _rows(conn, schema):
    columns = [d.name for d in conn.execute(f'select * from "{schema}".parallel_scores limit 0').description]
    rows = query(conn, f'select * from "{schema}".parallel_scores order by id')
    return [{c: v for c, v in zip(columns, row) if c != "scored_at"} for row in rows]


def test_parallel_branches_give_exactly_the_rows_of_the_stream(scored):
    serial, parallel, compiled = scored
    assert compiled.count("union all") >= 4 and "dbt_learn.score_rows(" in compiled
    assert len(serial) == 4000 and parallel == serial
    assert {row["code"] for row in parallel if row["id"] % 7 == 0} == {None}


def test_the_branches_run_in_parallel_workers(project, dbt_conn, scored):
    *_, compiled = scored
    select = compiled[compiled.index("(", compiled.index(" as")):].strip().rstrip(";")
    with dbt_conn.transaction():
        # The planner's choice depends on its cost settings; these make the plan parallel for any table size.
        dbt_conn.execute("set local parallel_setup_cost = 0; set local parallel_tuple_cost = 0")
        plan = "\n".join(row[0] for row in dbt_conn.execute(f"explain (analyze, costs off) select count(*) from "
                                                             f"{select} as t").fetchall())
    assert "Parallel Append" in plan, plan
    launched = [int(line.split(":")[1]) for line in plan.splitlines() if "Workers Launched" in line]
    assert launched and launched[0] >= 1, plan


def test_the_worker_functions_check_the_privilege_and_cannot_be_called_directly(dbt_conn, admin_conn, project):
    private = f"{project.schema}_private"
    admin_conn.execute(f'create schema "{private}"')
    try:
        with pytest.raises(psycopg.Error, match="cannot score with models in schema"):
            dbt_conn.execute("select dbt_learn.score_rows(%s, 'm', 1, 1, '\\x00'::bytea, array[]::bytea[], '{}')",
                             [private])
    finally:
        admin_conn.execute(f'drop schema "{private}"')
    for statement in ("select dbt_learn.score_rows_needs_artifact('/tmp', '0', 'x')",
                      "select dbt_learn.score_rows_python('/tmp', '0', 'm', '{}', null, 0, null, null, '{}')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            dbt_conn.execute(statement)


def test_a_small_table_or_one_thread_streams_in_one_process(project, scored):
    result = project.dbt("compile", "-s", "parallel_scores", "--vars",
                         json.dumps({"dbt_learn_threads_per_model": 2}))  # 4000 rows: below the 256 MB default
    assert result.success, result.output
    compiled = next((project.root / "target" / "compiled").rglob("parallel_scores.sql")).read_text()
    assert "dbt_learn.score_relation(" in compiled and "union all" not in compiled
