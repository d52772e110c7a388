"""Every node the package ships is described: its models, its macros (materializations and generic tests are macros
too) and their arguments, read from the manifest dbt writes, so `dbt docs` never shows a blank entry."""

import json
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def _package_nodes(project):
    result = project.dbt("parse")
    assert result.success, result.output
    manifest = json.loads((project.root / "target" / "manifest.json").read_text())
    macros = [m for m in manifest["macros"].values() if m["package_name"] == "dbt_learn"]
    models = [n for n in manifest["nodes"].values()
              if n["package_name"] == "dbt_learn" and n["resource_type"] == "model"]
    return macros, models


def test_every_package_model_macro_materialization_and_generic_test_is_described(project):
    macros, models = _package_nodes(project)
    assert len(macros) > 100 and len(models) >= 6  # the package was found, not an empty manifest
    assert any(m["name"].startswith("materialization_ml_train") for m in macros)
    assert any(m["name"].startswith("test_ml_") for m in macros)
    undescribed = sorted(m["name"] for m in macros + models if not (m.get("description") or "").strip())
    assert undescribed == [], f"describe these in a yml next to them: {undescribed}"
    undescribed_columns = sorted(f"{n['name']}.{c}" for n in models for c, column in n["columns"].items()
                                 if not (column.get("description") or "").strip())
    assert undescribed_columns == [], undescribed_columns


def test_every_documented_macro_argument_is_described(project):
    macros, _ = _package_nodes(project)
    blank = sorted(f"{m['name']}({a['name']})" for m in macros for a in m.get("arguments", [])
                   if not (a.get("description") or "").strip())
    assert blank == [], blank


def _public_name(macro):
    """What a user writes: ml_train for materialization_ml_train_postgres, ml_no_regression for its test macro."""
    name = macro["name"]
    if name.startswith("materialization_"):
        return name[len("materialization_"):].rsplit("_", 1)[0]
    return name[len("test_"):] if name.startswith("test_") else name


def test_the_macros_shown_in_dbt_docs_are_exactly_those_the_readme_documents(project):
    """Internal macros are marked `docs: {show: false}`; the public ones are the README's."""
    macros, _ = _package_nodes(project)
    readme = README.read_text()
    shown = {_public_name(m) for m in macros if m["docs"]["show"]}
    # Named as a user writes it: dbt_learn.name, `name` or `name(...)`, materialized='name'.
    documented = {_public_name(m) for m in macros if re.search(
        rf"dbt_learn\.{_public_name(m)}\b|`{_public_name(m)}[`(]|materialized=['\"]{_public_name(m)}['\"]", readme)}
    assert len(shown) > 15
    assert shown == documented, (f"shown but not in the README: {sorted(shown - documented)}; in the README but "
                                 f"hidden: {sorted(documented - shown)}")


def test_dbt_docs_shows_the_registry_as_the_source_of_the_package_models(project):
    """Lineage registry -> package models: each model over the registry reads it through source('dbt_learn', ...)."""
    _, models = _package_nodes(project)
    parents = {m["name"]: sorted(n.split(".")[-1] for n in m["depends_on"]["nodes"]) for m in models}
    assert parents.pop("ml_algorithms") == []  # the runtime's estimator catalog (a function), not a registry table
    assert parents == {
        "ml_models": ["deployed_versions", "metric_definitions", "model_versions", "serving_versions"],
        "ml_model_versions": ["model_versions", "serving_versions"],
        "ml_deployments": ["deployments", "metric_definitions", "model_versions"],
        "ml_feature_stats": ["model_versions"],
        "ml_feature_importances": ["model_versions"],
    }
    assert all(n.startswith("source.dbt_learn.dbt_learn.") for m in models for n in m["depends_on"]["nodes"])
