"""The runtime's entry points map one to one to the PL/Python functions of the install: each SQL body calls
``runtime.<its own name>``, and dbt_learn.sql_functions has exactly those names."""

import importlib
import pathlib
import re

import pytest

from dbt_learn import sql_functions

ROOT = pathlib.Path(__file__).resolve().parents[2]
FUNCTION = re.compile(r"create or replace function dbt_learn\.(\w+)\(.*?\$dbt_learn\$(.*?)\$dbt_learn\$", re.DOTALL)


def _plpython_functions():
    """{SQL function name: [runtime calls in its bodies]}, over every overload of every install macro."""
    found = {}
    for path in sorted((ROOT / "macros").rglob("*.sql")):
        for name, body in FUNCTION.findall(path.read_text()):
            if "plpython_boot()" in body:
                found.setdefault(name, []).extend(re.findall(r"\bruntime\.(\w+)\(", body))
    return found


def test_every_plpython_function_calls_the_entry_point_of_its_own_name_once_per_body():
    for name, calls in _plpython_functions().items():
        assert calls and set(calls) == {name}, f"dbt_learn.{name} calls runtime.{calls}; it must call runtime.{name}"


def test_the_entry_points_are_exactly_the_plpython_functions():
    assert sorted(sql_functions.ENTRY_POINTS) == sorted(_plpython_functions())


@pytest.mark.parametrize("name", sorted(sql_functions.ENTRY_POINTS))
def test_each_entry_point_is_implemented_where_the_table_says(name):
    module, function = sql_functions.ENTRY_POINTS[name]
    implementation = getattr(importlib.import_module(f"dbt_learn.{module}"), function)
    assert callable(implementation) and getattr(sql_functions, name) is implementation


def test_an_unknown_entry_point_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no entry point 'nothing'"):
        sql_functions.nothing  # noqa: B018
