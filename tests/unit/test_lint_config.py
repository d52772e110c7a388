"""`make lint` runs sqlfluff with the repo's .sqlfluff: bad SQL fails it, the package's style passes it.

sqlfluff runs here with the jinja templater on snippets (the dbt templater needs a file of a compiled dbt project and
the cluster; scripts/lint-sql.sh runs that). Every other setting comes from the repo's .sqlfluff."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SQLFLUFF = Path(sys.executable).parent / "sqlfluff"

GOOD = """select
    customer_id,
    count(*) as orders,
    case
        when sum(amount) > 100 then 'big'
        else 'small'
    end as size
from {{ ref('orders') }}
where amount is not null
group by customer_id
"""


def lint(sql):
    """sqlfluff lint of one snippet from the repo root (so the repo's .sqlfluff applies): (exit code, output)."""
    done = subprocess.run([str(SQLFLUFF), "lint", "-", "--templater", "jinja", "--format", "json"], input=sql,
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def rule_codes(output):
    return {code for code in ("CP01", "CP03", "LT05", "LT01", "AL02") if f'"code": "{code}"' in output}


@pytest.fixture(scope="module", autouse=True)
def sqlfluff_installed():
    if not SQLFLUFF.exists():
        pytest.fail(f"{SQLFLUFF} is missing: requirements/client.txt pins sqlfluff; run make setup")


def test_the_package_style_passes():
    code, output = lint(GOOD)
    assert code == 0, output


@pytest.mark.parametrize("bad, rule", [
    (GOOD.replace("select\n", "SELECT\n"), "CP01"),                    # keywords are lowercase
    (GOOD.replace("count(*)", "COUNT(*)"), "CP03"),                    # so are function names
    (GOOD.replace("customer_id,\n", "customer_id,\n    " + "x + " * 30 + "1 as wide,\n"), "LT05"),
    (GOOD.replace("where amount is", "where amount  is"), "LT01"),
    (GOOD.replace("count(*) as orders", "count(*) orders"), "AL02"),     # column aliases say `as`
])
def test_a_violation_fails_the_lint(bad, rule):
    code, output = lint(bad)
    assert code != 0, output
    assert rule in rule_codes(output), output


def test_lines_up_to_120_characters_pass_and_longer_ones_fail():
    def with_line_of(width):
        column = "customer_id as c"
        padding = width - len("    ") - len(column) - len(",") - len(" -- ")
        return GOOD.replace("    customer_id,\n", f"    {column}, -- {'x' * padding}\n", 1)

    assert len(with_line_of(120).splitlines()[1]) == 120
    code, output = lint(with_line_of(120))
    assert code == 0, output
    code, output = lint(with_line_of(121))
    assert code != 0 and "LT05" in rule_codes(output), output


def test_make_lint_runs_sqlfluff_over_every_dbt_project():
    dry_run = subprocess.run(["make", "-n", "lint"], cwd=REPO, capture_output=True, text=True, timeout=60,
                             check=True).stdout
    assert "bash scripts/lint-sql.sh" in dry_run
    script = (REPO / "scripts" / "lint-sql.sh").read_text()
    for project, paths in ((".", "models"), ("integration_tests", "integration_tests/models"),
                           ("demo", "demo/models")):
        assert f"lint_project {project} {paths}\n" in script


def load_macro_linter():
    spec = importlib.util.spec_from_file_location("lint_macros", REPO / "scripts" / "lint_macros.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MACROS = """{#- Two macros in one file, as the package writes them. -#}
{% macro checks_only(relation) -%}
  {%- if relation is none -%}
    {{ exceptions.raise_compiler_error("relation is required") }}
  {%- endif -%}
{%- endmacro %}

{% macro emits_sql(relation, columns) -%}
select
    {%- for column in columns %}
    {{ column }},
    {%- endfor %}
    count(*) as n
from {{ relation }}
group by 1
{%- endmacro %}
"""


def test_macro_lint_reports_a_violation_at_the_macro_files_own_line(tmp_path):
    lint_macros = load_macro_linter()
    linter = lint_macros.Linter(config=lint_macros.FluffConfig.from_path(
        str(REPO), extra_config_path=str(lint_macros.EXTRA_CONFIG)))
    clean, bad = tmp_path / "clean.sql", tmp_path / "bad.sql"
    clean.write_text(MACROS)
    bad.write_text(MACROS.replace("    count(*) as n\n", "    COUNT(*) AS n\n"))
    line = MACROS.splitlines().index("    count(*) as n") + 1

    outcome = {"linted": [], "no_sql": [], "unrendered": []}
    assert lint_macros.lint_file(linter, clean, outcome) == []
    assert outcome == {"linted": ["emits_sql"], "no_sql": ["checks_only"], "unrendered": []}

    found = lint_macros.lint_file(linter, bad, {"linted": [], "no_sql": [], "unrendered": []})
    assert {entry.split(" ")[1] for entry in found} == {"CP01", "CP03"}, found
    assert all(entry.startswith(f"{bad}:{line}:") and entry.endswith("(in macro emits_sql)") for entry in found), found
