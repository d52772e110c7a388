"""Runs dbt against the private cluster, elementary-style: a copy of integration_tests/ in a temporary folder, a
fresh schema per test session, dbt invoked in-process through dbtRunner, results read back with psycopg."""

import os
import pathlib
import shutil
import uuid
from dataclasses import dataclass, field

import psycopg
from dbt.cli.main import dbtRunner

REPO = pathlib.Path(__file__).resolve().parents[2]


def connection_info(admin=False):
    user = os.environ.get("DBT_LEARN_ADMIN_USER" if admin else "DBT_LEARN_USER",
                          "dbt_learn_admin" if admin else "dbt_learn_dbt")
    password = os.environ.get("DBT_LEARN_ADMIN_PASSWORD" if admin else "DBT_LEARN_PASSWORD",
                              "dbt_learn_admin" if admin else "dbt_learn")
    return dict(host=os.environ.get("DBT_LEARN_HOST", "127.0.0.1"), port=int(os.environ["DBT_LEARN_PORT"]),
                dbname=os.environ.get("DBT_LEARN_DATABASE", "dbt_learn"), user=user, password=password)


def connect(admin=False):
    return psycopg.connect(**connection_info(admin), autocommit=True)


@dataclass
class DbtResult:
    success: bool
    results: list
    messages: list = field(default_factory=list)

    @property
    def output(self):
        return "\n".join(self.messages)

    def status(self, name):
        return next(str(r.status) for r in self.results if r.node.name == name)

    def message(self, name):
        return next(r.message or "" for r in self.results if r.node.name == name)


class DbtProject:
    """A throwaway copy of a dbt project whose models build into ``schema``."""

    def __init__(self, source, workdir, schema):
        self.root = pathlib.Path(workdir) / source.name
        shutil.copytree(source, self.root, ignore=shutil.ignore_patterns("dbt_packages", "target", "logs"))
        packages = self.root / "dbt_packages"
        packages.mkdir()
        (packages / "dbt_learn").symlink_to(REPO, target_is_directory=True)
        shutil.copytree(source / "dbt_packages" / "dbt_utils", packages / "dbt_utils")
        self.schema = schema

    def dbt(self, *args):
        messages = []

        def collect(event):
            if event.info.level in ("info", "warn", "error"):
                messages.append(f"[{event.info.level}] {event.info.msg}")

        os.environ["DBT_LEARN_SCHEMA"] = self.schema
        runner = dbtRunner(callbacks=[collect])
        result = runner.invoke([*args, "--project-dir", str(self.root),
                                "--profiles-dir", os.environ["DBT_PROFILES_DIR"],
                                "--target-path", str(self.root / "target"), "--log-path", str(self.root / "logs")])
        results = list(getattr(result.result, "results", None) or [])
        if result.exception is not None:
            messages.append(f"[exception] {result.exception}")
        return DbtResult(result.success, results, messages)

    def write(self, relative_path, text):
        path = self.root / relative_path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def remove(self, relative_path):
        (self.root / relative_path).unlink(missing_ok=True)

    def dbt_with(self, files, *args):
        """Run dbt with some model files added for this call only: ``files`` maps paths to their text."""
        for path, text in files.items():
            self.write(path, text)
        try:
            return self.dbt(*args)
        finally:
            for path in files:
                self.remove(path)


def fresh_schema(prefix="it"):
    return f"{prefix}_{uuid.uuid4().hex[:10]}"
