"""Shared by unit and integration tests: the repository root and the private cluster's settings."""

import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parent.parent
LOCAL_ENV = REPO / ".dbt_learn_local" / "env"


def _load_local_env():
    # `make test` exports these already; running pytest by hand after `make setup` should work too.
    if not LOCAL_ENV.exists():
        return
    for line in LOCAL_ENV.read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            os.environ.setdefault(key.strip(), value.strip().strip("'\""))


_load_local_env()
