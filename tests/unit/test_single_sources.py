"""Rules the package states once: the metric catalog SQL reads, and no second copy of the serving-version rule or of
the headline metrics in the SQL."""

import pathlib
import re

import pytest

from dbt_learn.evaluation import HEADLINE, LOWER_IS_BETTER, METRICS, metric_catalog

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCES = [path for folder in ("macros", "models", "python_models")
           for path in sorted((ROOT / folder).rglob("*")) if path.suffix in {".sql", ".py"}]


def test_the_metric_catalog_lists_every_metric_once_with_its_direction_and_one_headline_per_task():
    rows = metric_catalog()
    assert [(row["task"], row["metric"]) for row in rows] == [
        (task, metric) for task, names in METRICS.items() for metric in names]
    for row in rows:
        assert row["higher_is_better"] is (row["metric"] not in LOWER_IS_BETTER)
        assert row["position"] == METRICS[row["task"]].index(row["metric"]) + 1
    headlines = {row["task"]: row["metric"] for row in rows if row["is_headline"]}
    assert headlines == HEADLINE


# Files that look like a copy but state a different rule.
OTHER_RULES = {
    # The baseline of ml_no_regression: what served when the newest version was trained, else the version before.
    "macros/tests/ml_no_regression.sql",
}


@pytest.mark.parametrize("what, pattern, home", [
    # The serving version: the newest deployment, else the newest version.
    ("the serving-version rule", r"coalesce\((?:(?!\);).){0,200}?deploy(?:(?!\);).){0,300}?max\(",
     "macros/registry/registry_ddl.sql"),
    # Which metric each task is summarised by.
    ("a headline metric per task", r"'classification'\s+then\s+'accuracy'|\"classification\":\s*\"accuracy\"",
     "python_models/dbt_learn/evaluation.py"),
    # Which way a metric is better.
    ("the metrics where lower is better", r"\[\s*'mae',\s*'rmse',\s*'mape',\s*'log_loss'\s*\]|"
                                          r"\{\s*\"mae\",\s*\"rmse\",\s*\"mape\",\s*\"log_loss\"\s*\}",
     "python_models/dbt_learn/evaluation.py"),
])
def test_a_rule_is_written_in_one_file(what, pattern, home):
    holders = [str(path.relative_to(ROOT)) for path in SOURCES
               if re.search(pattern, path.read_text(), flags=re.IGNORECASE | re.DOTALL)]
    assert [holder for holder in holders if holder not in OTHER_RULES] == [home], \
        f"{what} must live only in {home}; found in {holders}"
