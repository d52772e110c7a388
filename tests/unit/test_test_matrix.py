"""docs/test-matrix.md (issue 13, Deliver 7) cannot rot: every test it names exists (a module-level test function of
that file, and a parametrize id the file spells), every case of the issue's matrix has its row, each row names a test
or says who is on it, and a test marked xfail is called xfail in its row (the table never claims a failing test)."""

import ast
import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[2]
MATRIX = REPO / "docs" / "test-matrix.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)(?:\[([^\]`]+)\])?`")
# The cases the issue lists, as the first cell of their row (a row may cover more: 'NULL in features, training').
CASES = ["empty", "single class", "NULL", "NaN", "Infinity", "unseen categories", "text in numeric columns",
         "added/removed/reordered columns", "very high cardinality", "quoted/semicolon/mixed-case names",
         "failures mid-training", "kill -9", "concurrency", "scoring during training", "rollback exactness",
         "full-refresh history", "tampered artifacts", "determinism", "non-superuser attacks",
         "statement timeouts and autocommit", "runtime mismatch", "missing venv"]


def _rows():
    rows = [line for line in MATRIX.read_text().splitlines() if line.startswith("| ") and not line.startswith("|--")]
    return [row for row in rows[1:] if not set(row) <= set("|-: ")]


def _functions(path):
    tree = ast.parse((REPO / path).read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_every_named_test_exists():
    references = [match for row in _rows() for match in REFERENCE.findall(row)]
    assert len(references) >= 40
    for path, name, param in references:
        assert (REPO / path).is_file(), path
        functions = _functions(path)
        assert name in functions, f"{path}::{name} is not a test function of that file"
        if param:
            source = (REPO / path).read_text()
            for part in param.split(","):
                assert f'"{part}"' in source or f"'{part}'" in source, f"{path}::{name}[{param}]: no id {part!r}"


def test_every_case_of_the_issue_has_a_row_with_a_test():
    rows = _rows()
    firsts = [row.split("|")[1].strip() for row in rows]
    for case in CASES:
        assert any(case in first for first in firsts), f"no row for {case!r}"
    for row in rows:
        assert REFERENCE.search(row), row


def test_a_test_marked_xfail_is_called_xfail_in_its_row():
    for row in _rows():
        for path, name, _ in REFERENCE.findall(row):
            node = _functions(path).get(name)
            marked = node is not None and any("xfail" in ast.unparse(decorator) for decorator in node.decorator_list)
            if marked:
                assert "xfail" in row, f"{path}::{name} is marked xfail: say so in its row"
