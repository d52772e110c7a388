"""The macros part of `make lint`: sqlfluff over the SQL the package's macros emit.

sqlfluff lints what a file renders to, and a file that only defines macros renders to nothing; a model that calls a
macro gets the macro's SQL as one templated span, whose violations sqlfluff ignores. So each SQL-emitting macro is
linted through a view of its own file: the macro's body as top-level template, its `{% macro %}`/`{% endmacro %}`
tags turned into Jinja comments and the rest of the file blanked. Lines and columns stay the file's own, so each
violation points at the macro's source line. The jinja templater renders the views with the repo's .sqlfluff plus
lint/sqlfluff-macros.cfg: dbt's context is not there, so an undefined name renders as itself and errors, log lines
and returned values render to nothing. A macro whose Jinja fails on those stand-ins is listed, not linted.

Usage: python scripts/lint_macros.py [MACRO_FILE ...]   (default: every macros/**/*.sql); exit 1 on a violation.
"""

import re
import sys
from pathlib import Path

from sqlfluff.core import FluffConfig, Linter

REPO = Path(__file__).resolve().parents[1]
EXTRA_CONFIG = REPO / "lint" / "sqlfluff-macros.cfg"

MACRO = re.compile(r"\{%-?\s*macro\s+(\w+)\s*\(.*?\)\s*-?%\}(.*?)\{%-?\s*endmacro\s*-?%\}", re.S)

# Macros that emit no statement of their own, so sqlfluff cannot parse them alone. A dispatcher (adapter.dispatch) is
# recognised without a list, and a macro that renders nothing (one that only raises or returns) is left out.
FRAGMENTS = {
    "plpython_boot": "Python: the start of a PL/Python function body",
    "prediction_columns_sql": "a select list, spliced into the scoring query",
    "ml_perf_ceil_sql": "an expression",
    "ml_perf_dense_array_sql": "an expression",
    "postgres__ml_predict": "an expression: a call of dbt_learn.predict and co., named by Jinja",
    "default__test_ml_predictions_in_range": "a call of dbt_utils.test_accepted_range, whose SQL is dbt-utils'",
}


def blank(text):
    """Keep only the line breaks of text, so what follows keeps its line numbers."""
    return "\n" * text.count("\n")


def comment(tag):
    """A `{% ... %}` tag as a Jinja comment of the same length and lines ('#' would close it early)."""
    return "{#" + tag[2:-2].replace("#", " ") + "#}"


def macro_views(source):
    """(macro name, view) for each SQL-emitting macro in a macro file's source."""
    for match in MACRO.finditer(source):
        name, body = match.group(1), match.group(2)
        if "adapter.dispatch(" in body or name in FRAGMENTS:
            continue
        yield name, (blank(source[:match.start()]) + comment(source[match.start():match.start(2)]) + body
                     + comment(source[match.end(2):match.end()]) + blank(source[match.end():]))


def lint_file(linter, path, outcome):
    """Violations of every SQL-emitting macro in one file: 'path:line:col: CODE description (in macro name)'.

    outcome[kind] collects the macro names per kind: 'linted', 'no_sql' (renders nothing: it only checks its
    arguments, raises or returns a value) or 'unrendered' (Jinja fails on the stand-ins for dbt's context)."""
    shown = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    found = []
    for name, view in macro_views(path.read_text()):
        linted = linter.lint_string(view, fname=str(path))
        if linted.templated_file is None:
            outcome["unrendered"].append(name)
            continue
        if not linted.templated_file.templated_str.strip():
            outcome["no_sql"].append(name)
            continue
        outcome["linted"].append(name)
        for violation in linted.get_violations():
            found.append(f"{shown}:{violation.line_no}:{violation.line_pos}: {violation.rule_code()} "
                         f"{violation.desc()} (in macro {name})")
    return found


def main(argv):
    paths = [Path(arg).resolve() for arg in argv] or sorted((REPO / "macros").rglob("*.sql"))
    config = FluffConfig.from_path(str(REPO), extra_config_path=str(EXTRA_CONFIG))
    linter = Linter(config=config)
    outcome = {"linted": [], "no_sql": [], "unrendered": []}
    found = [line for path in paths for line in lint_file(linter, path, outcome)]
    if found:
        print("\n".join(found))
    print(f"dbt_learn lint: macros: {len(found)} violations in the SQL of {len(outcome['linted'])} macros; "
          f"{len(outcome['no_sql'])} emit no SQL text; {len(outcome['unrendered'])} need dbt to render, not linted: "
          + ", ".join(outcome["unrendered"]))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
