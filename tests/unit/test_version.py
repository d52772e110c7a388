"""One version number: python_models/dbt_learn/_version.py is the source; dbt_project.yml's version and
macros/install/runtime_version.sql are copies that must not drift from it (the macros compare the installed
runtime with runtime_version(), so a stale copy would refuse every install or accept a stale one). The changelog
has a section for it, so a bump cannot ship without saying what changed."""

import ast
import pathlib
import re

import yaml

REPO = pathlib.Path(__file__).resolve().parents[2]


def source_version():
    tree = ast.parse((REPO / "python_models" / "dbt_learn" / "_version.py").read_text())
    values = [node.value.value for node in tree.body if isinstance(node, ast.Assign)
              and any(getattr(target, "id", None) == "__version__" for target in node.targets)]
    assert len(values) == 1, "_version.py must assign __version__ exactly once"
    return values[0]


def test_the_source_version_is_major_minor_patch():
    assert re.fullmatch(r"\d+\.\d+\.\d+", source_version())


def test_dbt_project_yml_carries_the_same_version():
    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    assert str(project["version"]) == source_version()


def test_the_runtime_version_macro_returns_the_same_version():
    text = (REPO / "macros" / "install" / "runtime_version.sql").read_text()
    returned = re.findall(r"return\(\s*'([^']*)'\s*\)", text)
    assert returned == [source_version()], text


def test_the_changelog_opens_with_the_current_version():
    sections = re.findall(r"^## \[([^\]]+)\]", (REPO / "CHANGELOG.md").read_text(), flags=re.MULTILINE)
    assert sections, "CHANGELOG.md has no '## [x.y.z]' section"
    assert sections[0] == source_version(), f"CHANGELOG.md's newest section is {sections[0]}, not {source_version()}"
    assert len(sections) == len(set(sections)), f"a version appears twice in CHANGELOG.md: {sections}"
