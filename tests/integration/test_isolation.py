"""Isolation (issue 13, security (b), (c), (e)): a model belongs to its schema's identity (OID), not its name; a role
sees the registry rows of the schemas it may use only; and history is deleted by dbt_learn.purge_versions alone,
which keeps the deployment log. Each test builds its own schemas and roles in a small dbt project of its own."""

import os
import pathlib
import shutil
import uuid

import psycopg
import pytest
from psycopg import sql

from .conftest import query
from .harness import REPO, DbtProject, connection_info, fresh_schema

MODEL = """
{{ config(materialized='ml_train', meta={'target': 'y', 'algorithm': 'ridge', 'id_columns': ['id']}) }}
select g as id, g::float8 as x1, (g % 7)::float8 as x2, (2 * g + (g % 7) + 1)::float8 as y
from generate_series(1, 60) as g
"""
SCORES = """{{ config(materialized='table') }}
select * from {{ dbt_learn.ml_score(ref('iso_model'), source('iso', 'iso_rows')) }}
"""
SOURCES = """version: 2
sources:
  - name: iso
    schema: "{{ target.schema }}"
    tables: [{name: iso_rows}]
"""
REGISTRY_MODELS = "_dbt_learn_registry"  # the package models' schema suffix (dbt_project.yml)
PROFILE = """dbt_learn:
  target: dev
  outputs:
    dev: {{type: postgres, host: "{host}", port: {port}, user: "{user}", password: "{password}", dbname: "{dbname}",
          schema: "{{{{ env_var('DBT_LEARN_SCHEMA') }}}}", threads: 1}}
"""


@pytest.fixture(scope="module")
def dbt_project(tmp_path_factory):
    """A project of its own: the iso_model model and the package (ml_models and the others) only."""
    root = tmp_path_factory.mktemp("iso") / "iso_project"
    (root / "models").mkdir(parents=True)
    (root / "dbt_project.yml").write_text('name: iso_project\nversion: "1.0.0"\nconfig-version: 2\n'
                                          'profile: dbt_learn\nmodel-paths: ["models"]\n')
    (root / "models" / "iso_model.sql").write_text(MODEL)
    (root / "models" / "sources.yml").write_text(SOURCES)
    packages = root / "dbt_packages"
    packages.mkdir()
    (packages / "dbt_learn").symlink_to(REPO, target_is_directory=True)
    shutil.copytree(REPO / "integration_tests" / "dbt_packages" / "dbt_utils", packages / "dbt_utils")
    return root


def _project(root, schema):
    project = DbtProject.__new__(DbtProject)
    project.root, project.schema = pathlib.Path(root), schema
    return project


class Role:
    """A login role with what dbt_learn.install granted the dbt role (and CREATE on the database), dropped after."""

    def __init__(self, admin_conn, tmp_path):
        self.name, self.password = f"iso_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        self.admin, self.ident = admin_conn, sql.Identifier(self.name)
        admin_conn.execute(sql.SQL("create role {} login password {}").format(self.ident, sql.Literal(self.password)))
        dbt_role = connection_info()["user"]
        admin_conn.execute(sql.SQL("grant usage on schema dbt_learn to {}").format(self.ident))
        admin_conn.execute(sql.SQL("grant create on database {} to {}").format(
            sql.Identifier(connection_info()["dbname"]), self.ident))
        for (function,) in query(admin_conn, "select p.oid::regprocedure::text from pg_proc p where p.pronamespace = "
                                 "'dbt_learn'::regnamespace and has_function_privilege(%s, p.oid, 'execute')",
                                 [dbt_role]):
            admin_conn.execute(sql.SQL("grant execute on function {} to {}").format(sql.SQL(function), self.ident))
        for (table,) in query(admin_conn, "select c.oid::regclass::text from pg_class c where c.relnamespace = "
                              "'dbt_learn'::regnamespace and has_table_privilege(%s, c.oid, 'select')", [dbt_role]):
            admin_conn.execute(sql.SQL("grant select on {} to {}").format(sql.SQL(table), self.ident))
        self.profiles = tmp_path / f"profiles_{self.name}"
        self.profiles.mkdir()
        info = connection_info()
        (self.profiles / "profiles.yml").write_text(PROFILE.format(**{**info, "user": self.name,
                                                                        "password": self.password}))

    def connect(self):
        return psycopg.connect(**{**connection_info(), "user": self.name, "password": self.password},
                               autocommit=True)

    def dbt(self, project, *args):
        saved = os.environ["DBT_PROFILES_DIR"]
        os.environ["DBT_PROFILES_DIR"] = str(self.profiles)
        try:
            return project.dbt(*args)
        finally:
            os.environ["DBT_PROFILES_DIR"] = saved

    def drop(self):
        self.admin.execute(sql.SQL("drop owned by {}").format(self.ident))
        self.admin.execute(sql.SQL("drop role {}").format(self.ident))


@pytest.fixture
def other_role(admin_conn, tmp_path):
    role = Role(admin_conn, tmp_path)
    yield role
    role.drop()


@pytest.fixture
def schemas(admin_conn):
    made = []
    yield made
    for schema in made:
        admin_conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(schema)))


def _rows(admin_conn, schema, name="iso_model"):
    """Everything persisted about a model, as the admin sees it."""
    return (query(admin_conn, "select version, schema_oid, artifact_sha256 from dbt_learn.model_versions "
                  "where model_schema = %s and model_name = %s order by version", [schema, name]),
            query(admin_conn, "select version, md5(artifact) from dbt_learn.model_artifacts "
                  "where model_schema = %s and model_name = %s order by version", [schema, name]),
            query(admin_conn, "select deployment_id, version, schema_oid from dbt_learn.deployments "
                  "where model_schema = %s and model_name = %s order by deployment_id", [schema, name]))


def _trained(dbt_project, schemas, *runs):
    schema = fresh_schema("iso")
    schemas.append(schema)
    project = _project(dbt_project, schema)
    for args in runs:
        result = project.dbt("run", "-s", "iso_model", *args)
        assert result.success, result.output
    return project


def test_a_recreated_schema_does_not_inherit_the_old_schemas_models(dbt_project, schemas, admin_conn, other_role):
    project = _trained(dbt_project, schemas, (), ("--full-refresh",))
    schema = project.schema
    before = _rows(admin_conn, schema)
    assert [row[0] for row in before[0]] == [1, 2]
    admin_conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))
    expected = (f"model 'iso_model': no version of it belongs to schema {schema} (the schema was dropped and "
                f"recreated since version 2 was trained); train it again: dbt run -s iso_model")

    with other_role.connect() as conn:
        conn.execute(sql.SQL("create schema {}").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("create table {}.iso_rows as select g as id, g::float8 as x1, 1::float8 as x2 "
                             "from generate_series(1, 5) as g").format(sql.Identifier(schema)))
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("select dbt_learn.predict(%s, 'iso_model', 1, 2)", [schema])
        assert expected in str(refused.value)
        for call, args in (("dbt_learn.deploy(%s, 'iso_model', 1, 'manual', 'test')", [schema]),
                           ("dbt_learn.rollback(%s, 'iso_model', 'test')", [schema]),
                           ("dbt_learn.purge_versions(%s, 'iso_model', 1)", [schema])):
            assert query(conn, f"select {call}", args)[0][0] == {"error": expected}, call
        assert query(conn, "select dbt_learn.serving_version(%s, 'iso_model')", [schema])[0][0] is None
        assert query(conn, "select count(*) from dbt_learn.model_versions where model_schema = %s", [schema]) == [(0,)]

    project.write("models/iso_scores.sql", SCORES)
    try:
        scores = other_role.dbt(project, "run", "-s", "iso_scores")
    finally:
        project.remove("models/iso_scores.sql")
    assert not scores.success
    assert expected in scores.output
    assert _rows(admin_conn, schema) == before  # nothing persisted changed

    trained = other_role.dbt(project, "run", "-s", "iso_model")  # a new history in the new schema
    assert trained.success, trained.output
    with other_role.connect() as conn:
        new = query(conn, "select version, training_reason from dbt_learn.model_versions where model_schema = %s "
                    "and model_name = 'iso_model'", [schema])
        assert new == [(3, "first version")]
        assert query(conn, "select dbt_learn.serving_version(%s, 'iso_model')", [schema]) == [(3,)]
        assert query(conn, "select dbt_learn.predict(%s, 'iso_model', 1, 2)", [schema])[0][0] is not None
        answer = query(conn, "select dbt_learn.deploy(%s, 'iso_model', 1, 'manual', 'test')", [schema])[0][0]
        assert answer == {"error": "model 'iso_model' has no version 1 to deploy; its versions are: 3."}
    after = _rows(admin_conn, schema)
    assert [row for row in after[0] if row[0] < 3] == before[0]
    assert [row for row in after[2] if row[1] < 3] == before[2]


def test_a_role_sees_only_the_registry_rows_of_schemas_it_may_use(dbt_project, schemas, admin_conn, dbt_conn,
                                                                 other_role):
    project = _trained(dbt_project, schemas, ())
    schema = project.schema
    granted = [row[0] for row in query(
        admin_conn, "select c.oid::regclass::text from pg_class c join pg_attribute a on a.attrelid = c.oid "
        "where c.relnamespace = 'dbt_learn'::regnamespace and a.attname = 'model_schema' "
        "and has_table_privilege(%s, c.oid, 'select') order by 1", [connection_info()["user"]])]
    assert {"dbt_learn.model_versions", "dbt_learn.deployments", "dbt_learn.deployed_versions",
            "dbt_learn.serving_versions"} <= set(granted)

    def counts(conn):
        return {relation: query(conn, sql.SQL("select count(*) from {} where model_schema = %s").format(
            sql.SQL(relation)), [schema])[0][0] for relation in granted}

    assert all(count > 0 for count in counts(dbt_conn).values())  # the owner of the schema sees all of it
    with other_role.connect() as conn:
        assert set(counts(conn).values()) == {0}
        assert query(conn, "select count(*) from dbt_learn.model_versions where training_stats::text like %s",
                     [f"%{schema}%"]) == [(0,)]

    # The package models, built as the other role into a schema of its own, list none of them.
    own = fresh_schema("iso")
    schemas.extend([own, own + REGISTRY_MODELS, schema + REGISTRY_MODELS])
    built = other_role.dbt(_project(dbt_project, own), "run", "-s", "ml_models", "ml_model_versions",
                           "ml_deployments")
    assert built.success, built.output
    with other_role.connect() as conn:
        for model in ("ml_models", "ml_model_versions", "ml_deployments"):
            assert query(conn, sql.SQL("select count(*) from {}.{} where model_schema = %s").format(
                sql.Identifier(own + REGISTRY_MODELS), sql.Identifier(model)), [schema]) == [(0,)], model
    built = _project(dbt_project, schema).dbt("run", "-s", "ml_models", "ml_model_versions", "ml_deployments")
    assert built.success, built.output
    for model in ("ml_models", "ml_model_versions", "ml_deployments"):
        assert query(dbt_conn, sql.SQL("select count(*) from {}.{} where model_schema = %s").format(
            sql.Identifier(schema + REGISTRY_MODELS), sql.Identifier(model)), [schema]) == [(1,)], model


def test_no_setting_opens_the_registry_to_a_delete(dbt_project, schemas, admin_conn):
    schema = _trained(dbt_project, schemas, ()).schema
    before = _rows(admin_conn, schema)
    for table in ("model_versions", "model_artifacts", "deployments"):
        with pytest.raises(psycopg.errors.RaiseException, match=f"dbt_learn: {table} is append-only"):
            with admin_conn.transaction():
                admin_conn.execute("set local dbt_learn.purging = on")
                admin_conn.execute(sql.SQL("delete from dbt_learn.{} where model_schema = %s").format(
                    sql.Identifier(table)), [schema])
    assert _rows(admin_conn, schema) == before


def test_purging_keeps_the_deployment_log_and_never_serves_a_purged_version(dbt_project, schemas, admin_conn,
                                                                            dbt_conn):
    refresh = ("--full-refresh",)
    project = _trained(dbt_project, schemas, (), refresh, refresh, refresh)
    schema = project.schema

    def call(function, *args):
        answer = query(dbt_conn, f"select dbt_learn.{function}(%s, 'iso_model', {', '.join(['%s'] * len(args))})",
                       [schema, *args])[0][0]
        assert "error" not in answer, answer
        return answer

    call("deploy", 2, "manual", "test")
    log = _rows(admin_conn, schema)[2]
    assert call("purge_versions", 1) == {"purged_versions": [1, 3]}  # neither the newest nor the serving one
    versions, artifacts, deployments = _rows(admin_conn, schema)
    assert [row[0] for row in versions] == [2, 4] and [row[0] for row in artifacts] == [2, 4]
    assert deployments == log  # the log keeps naming versions 1 and 3
    assert query(dbt_conn, "select dbt_learn.serving_version(%s, 'iso_model')", [schema]) == [(2,)]
    call("deploy", 4, "manual", "test")
    assert call("rollback", None)["deployed_version"] == 2  # skips the purged version 3
    answer = query(dbt_conn, "select dbt_learn.deploy(%s, 'iso_model', 3, 'manual', 'test')", [schema])[0][0]
    assert answer == {"error": "model 'iso_model' has no version 3 to deploy; its versions are: 2, 4."}
    assert query(dbt_conn, "select version from dbt_learn.serving_versions where model_schema = %s",
                 [schema]) == [(2,)]

    schemas.append(schema + REGISTRY_MODELS)
    built = project.dbt("run", "-s", "ml_deployments", "ml_models", "ml_model_versions")
    assert built.success, built.output
    rows = query(dbt_conn, sql.SQL("select version, task from {}.ml_deployments where model_schema = %s "
                                   "order by deployment_id").format(sql.Identifier(schema + REGISTRY_MODELS)), [schema])
    assert [row[0] for row in rows] == [row[1] for row in log] + [4, 2]
    assert {row[0] for row in rows if row[1] is None} == {1, 3}
    assert query(dbt_conn, sql.SQL("select deployed_version from {}.ml_models where model_schema = %s").format(
        sql.Identifier(schema + REGISTRY_MODELS)), [schema]) == [(2,)]
