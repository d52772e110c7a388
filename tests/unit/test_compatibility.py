"""The README's compatibility table says what is tested and what is declared; both come from files that change
(the pins in requirements/*.txt, dbt_project.yml, packages.yml, pyproject.toml) and from the machine the tests run
on. This holds the table to them, so it cannot drift."""

import os
import pathlib
import re
import subprocess
import sys
import tomllib

import pytest
import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]
# Where set-up takes dbt-utils from when the hub cannot be reached (scripts: DBT_LEARN_PACKAGES_MIRROR).
MIRROR = pathlib.Path(os.environ.get("DBT_LEARN_PACKAGES_MIRROR", REPO.parent / "shared" / "vendor"))
MIRROR_README = MIRROR / "README.md"


def table():
    text = (REPO / "README.md").read_text()
    start = text.index("\n## Compatibility\n")
    section = text[start:text.index("\n## ", start + 1)]
    lines = [line for line in section.splitlines() if line.startswith("|") and not line.startswith("|---")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    assert rows[0] == ["component", "tested", "declared"], rows[0]
    return {component: (tested, declared) for component, tested, declared in rows[1:]}


def pins():
    pinned = {}
    for name in ("server.txt", "client.txt"):
        for line in (REPO / "requirements" / name).read_text().splitlines():
            match = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==(\S+)", line)
            if match:
                pinned[match.group(1).lower()] = match.group(2)
    return pinned


def declared_ranges():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    ranges = {}
    for dependency in project["dependencies"]:
        name, specifier = re.match(r"([A-Za-z0-9_.-]+)(.*)", dependency).groups()
        ranges[name.lower()] = specifier
    return ranges, project["requires-python"]


def first_code(cell):
    match = re.search(r"`([^`]*)`", cell)
    return match.group(1) if match else None


PINNED_COMPONENTS = ["dbt-core", "dbt-postgres", "scikit-learn", "pandas", "numpy", "scipy", "xgboost-cpu", "lightgbm"]


@pytest.mark.parametrize("component", PINNED_COMPONENTS)
def test_tested_versions_are_the_pins(component):
    assert table()[component][0] == pins()[component]


@pytest.mark.parametrize("component", ["scikit-learn", "pandas", "numpy", "scipy"])
def test_declared_ranges_are_the_runtimes(component):
    ranges, _ = declared_ranges()
    assert first_code(table()[component][1]) == ranges[component]


def test_every_pinned_library_of_the_runtime_is_in_the_table():
    ranges, _ = declared_ranges()
    missing = {name for name in ranges if name in pins()} - set(table()) - {"joblib", "threadpoolctl"}
    assert not missing, f"pinned runtime libraries missing from the compatibility table: {missing}"


def test_the_declared_dbt_version_is_dbt_project_ymls():
    required = yaml.safe_load((REPO / "dbt_project.yml").read_text())["require-dbt-version"]
    shown = first_code(table()["dbt-core"][1])
    assert shown == "require-dbt-version: " + "[" + ", ".join(f'"{r}"' for r in required) + "]"


def test_the_declared_dbt_utils_range_is_packages_ymls():
    packages = yaml.safe_load((REPO / "packages.yml").read_text())["packages"]
    version = next(p["version"] for p in packages if p.get("package") == "dbt-labs/dbt_utils")
    assert first_code(table()["dbt-utils"][1]) == "[" + ", ".join(f'"{v}"' for v in version) + "]"


def test_the_tested_dbt_utils_is_the_mirrors():
    if not MIRROR_README.exists():
        pytest.skip(f"no package mirror at {MIRROR_README.parent}: dbt-utils came from the hub")
    mirrored = re.search(r"dbt-utils (\d+\.\d+\.\d+)", MIRROR_README.read_text()).group(1)
    assert table()["dbt-utils"][0] == mirrored


def test_python_declared_and_tested():
    _, requires = declared_ranges()
    tested, declared = table()["Python"]
    assert first_code(declared) == requires
    assert tested == f"{sys.version_info.major}.{sys.version_info.minor}"  # the client venv running this test
    server = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert tested == server  # the Python PL/Python embeds, which made the server venv


def test_the_tested_postgres_is_the_clusters():
    if "DBT_LEARN_PORT" not in os.environ:
        pytest.skip("no private cluster (make setup) to ask")
    from tests.integration.harness import connect

    with connect() as conn:
        version = conn.execute("select current_setting('server_version_num')::int / 10000").fetchone()[0]
    assert table()["PostgreSQL"][0] == str(version)

