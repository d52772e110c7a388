"""The README's five-minute tour, checked against the demo project it describes: the files it shows are the demo's
files, and what it says a run prints and builds is what `dbt build` of the demo (as `make demo` runs it, in a fresh
schema of the test cluster) prints and builds. A change to the demo or to a log line fails here until the tour
follows."""

import importlib.util
import json
import re
import shutil

import pytest
import yaml

from .conftest import query
from .harness import REPO, DbtProject, fresh_schema

pytestmark = pytest.mark.integration

FILE_HEADER = re.compile(r"^(?:--|#) (models/\S+\.(?:sql|py))$")
# The tour's numbers that depend on the machine, not on the data: a pattern instead of the printed value.
FIT_SECONDS = re.compile(r"in \d+\.\d+ s,")
# A Python model whose seventh line divides by zero: the tour quotes the error it gets.
FAILING_MODEL = '''"""A Python model with a bug on line 7, to show where its error is reported."""


def model(dbt, session):
    dbt.config(materialized="ml_train", meta={"target": "disease_progression"})
    frame = dbt.ref("diabetes_training")
    ratio = len(frame) / 0
    return ratio
'''


def tour():
    text = (REPO / "README.md").read_text()
    start = text.index("\n## Five-minute tour\n")
    return text[start:text.index("\n## ", start + 1)]


def code_blocks(lang=None):
    blocks = re.findall(r"^```(\w*)\n(.*?)^```$", tour(), flags=re.MULTILINE | re.DOTALL)
    return [body for kind, body in blocks if lang is None or kind == lang]


def file_blocks():
    shown = {}
    for body in code_blocks():
        first, _, rest = body.partition("\n")
        header = FILE_HEADER.match(first)
        if header:
            shown[header.group(1)] = rest
    return shown


def log_lines():
    """Every `dbt_learn: ...` line the tour quotes, in a code block or inline."""
    lines = [line for body in code_blocks("") for line in body.splitlines() if line.startswith("dbt_learn: ")]
    inline = re.findall(r"`(dbt_learn: [^`]+)`", tour().replace("\n", " "))
    return lines + inline


def as_pattern(line):
    parts = FIT_SECONDS.split(line)
    return re.compile(r"in \d+\.\d+ s,".join(re.escape(part) for part in parts))


def test_the_tour_shows_the_demo_files_verbatim():
    shown = file_blocks()
    assert {"models/training/breast_cancer_training.sql", "models/ml/breast_cancer_classifier.sql",
            "models/ml/diabetes_regressor.py", "models/scoring/breast_cancer_scores.sql"} <= set(shown), shown
    for path, text in shown.items():
        assert text == (REPO / "demo" / path).read_text(), f"README tour's {path} differs from demo/{path}"


def test_the_tours_yaml_tests_are_the_demo_schemas():
    demo_models = {m["name"]: m for m in yaml.safe_load((REPO / "demo/models/schema.yml").read_text())["models"]}
    shown = [yaml.safe_load(body) for body in code_blocks("yaml")]
    assert shown, "the tour shows no yaml block"
    for block in shown:
        for model in block["models"]:
            demo = demo_models[model["name"]]
            for test in model.get("data_tests", []):
                assert test in demo.get("data_tests", []), f"{model['name']}: {test} is not in demo/models/schema.yml"
            demo_columns = {c["name"]: c for c in demo.get("columns", [])}
            for column in model.get("columns", []):
                for test in column.get("data_tests", []):
                    assert test in demo_columns[column["name"]].get("data_tests", []), (model["name"], test)


@pytest.fixture(scope="module")
def demo(tmp_path_factory, admin_conn):
    """The demo built as `make demo` builds it (without the replay), then the classifier run once more unchanged."""
    schema = fresh_schema("tour")
    project = DbtProject(REPO / "demo", tmp_path_factory.mktemp("tour"), schema)
    shutil.rmtree(project.root / "seeds", ignore_errors=True)
    spec = importlib.util.spec_from_file_location("demo_seeds", REPO / "scripts" / "demo_seeds.py")
    seeds = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(seeds)
    seeds.main(project.root / "seeds")
    project.first = project.dbt("build", "--exclude", "tag:monitoring")
    project.second = project.dbt("run", "-s", "breast_cancer_classifier")
    project.failing = project.dbt_with({"models/ml/m.py": FAILING_MODEL}, "run", "-s", "m")
    yield project
    for suffix in ("", "_raw", "_dbt_test__audit", "_dbt_learn_registry"):
        admin_conn.execute(f'drop schema if exists "{schema}{suffix}" cascade')


def test_the_demo_builds(demo):
    assert demo.first.success, demo.first.output
    assert demo.second.success, demo.second.output


def test_the_log_lines_the_tour_quotes_are_printed(demo):
    quoted = log_lines()
    assert any(line.startswith("dbt_learn: trained ") for line in quoted), quoted
    assert any(line.startswith("dbt_learn: kept ") for line in quoted), quoted
    printed = demo.first.output + "\n" + demo.second.output
    for line in quoted:
        assert as_pattern(line).search(printed), f"the tour quotes\n{line}\nbut the demo printed\n" + "\n".join(
            m for m in printed.splitlines() if "dbt_learn: " in m)


def test_a_python_models_error_is_reported_as_the_tour_says(demo):
    quoted = re.search(r"`(model 'm' \(models/ml/m\.py, line \d+[^`]*)`", tour().replace("\n", " "))
    assert quoted, "the tour no longer quotes a Python model's error"
    assert not demo.failing.success
    assert quoted.group(1) in demo.failing.output, demo.failing.output


def test_the_scores_table_has_the_tours_columns_and_rows(demo, dbt_conn):
    text = tour()
    table = text[text.index("| patient_id |"):].split("\n\n")[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()
            if not line.startswith("|---")]
    header, shown = rows[0], rows[1:]
    columns = [r[0] for r in query(dbt_conn, """select column_name from information_schema.columns
        where table_schema = %s and table_name = 'breast_cancer_scores' order by ordinal_position""", [demo.schema])]
    assert columns == header
    kind = query(dbt_conn, "select relkind from pg_class where oid = %s::regclass",
                 [f'"{demo.schema}".breast_cancer_scores'])[0][0]
    assert kind == "r"  # "a table refreshed on every run"
    for row in shown:
        stored = query(dbt_conn, f"""select prediction, round(probability_benign::numeric, 4)::text,
            round(probability_malignant::numeric, 4)::text, model_version::text
            from "{demo.schema}".breast_cancer_scores where patient_id = %s""", [int(row[0])])
        assert stored and list(stored[0]) == row[1:5], (row, stored)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00", row[5]), row[5]


def test_the_trained_models_relation_is_a_view_of_its_versions(demo, dbt_conn):
    relation = f'"{demo.schema}".breast_cancer_classifier'
    assert query(dbt_conn, "select relkind from pg_class where oid = %s::regclass", [relation])[0][0] == "v"
    columns = {r[0] for r in query(dbt_conn, """select column_name from information_schema.columns
        where table_schema = %s and table_name = 'breast_cancer_classifier'""", [demo.schema])}
    named = re.search(r"`select \* from breast_cancer_classifier`: ([^)]*)\)", tour().replace("\n", " ")).group(1)
    for name in re.findall(r"\b[a-z_]+\b", named.replace("`", "")):
        assert name in columns, f"the tour names column {name}; the view has {sorted(columns)}"


def test_the_lineage_the_tour_shows(demo):
    manifest = json.loads((demo.root / "target" / "manifest.json").read_text())
    parents = {node["name"]: {manifest["nodes"][p]["name"] for p in node["depends_on"]["nodes"]
                              if p in manifest["nodes"]}
               for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    chain = re.search(r"`(\w+) → (\w+) → (\w+)`", tour()).groups()
    assert chain[0] in parents[chain[1]] and chain[1] in parents[chain[2]], (chain, parents)


def test_the_tours_commands_run_programs_that_exist():
    commands = re.findall(r"`cd demo && ([^`]+)`", tour())
    assert commands, "the tour shows no command to run in demo/"
    programs = {word for command in commands for word in command.split() if word.startswith("../")}
    assert programs, commands
    for program in programs:
        assert (REPO / "demo" / program).resolve().is_file(), f"{program} (from demo/) does not exist"
