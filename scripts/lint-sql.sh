#!/usr/bin/env bash
# The sqlfluff part of `make lint` (rules: .sqlfluff; skipped files: .sqlfluffignore). The dbt templater compiles
# each project against the private cluster, in a schema of its own that nothing builds, so the result does not
# depend on what a dev or test run left behind. sqlfluff only warns when dbt cannot compile a file and then skips
# it; here that fails the run, so no model drops out of the lint unnoticed.
. "$(dirname "$0")/lib.sh"

load_env
export DBT_LEARN_SCHEMA="${DBT_LEARN_LINT_SCHEMA:-dbt_learn_lint}"
SQLFLUFF="${DBT_LEARN_LINT_SQLFLUFF:-$CLIENT_VENV/bin/sqlfluff}"  # overrides: for trying other versions
PYTHON="${DBT_LEARN_LINT_PYTHON:-$CLIENT_VENV/bin/python}"
cd "$REPO_ROOT"

# demo/'s seeds are generated (gitignored); its models ref them, so dbt needs the files to compile.
if [ ! -f demo/seeds/breast_cancer.csv ] || [ ! -f demo/seeds/diabetes.csv ] || [ ! -f demo/seeds/screenings.csv ] \
   || [ ! -f demo/seeds/biopsy_results.csv ]; then
  "$PYTHON" scripts/demo_seeds.py demo/seeds
fi

status=0
# lint_project DBT_PROJECT_DIR PATH...: one sqlfluff run (one dbt compile) per dbt project. The package's own
# models compile as the root project (the repo root; dbt_packages/ there is made by `make lint`).
lint_project() {
  local project=$1 log
  shift
  log="$(mktemp "${TMPDIR:-/tmp}/dbt_learn-sqlfluff.XXXXXX")"
  # sqlfluff reports a skipped file among its results, on stdout or stderr depending on the terminal: keep both.
  if ! DBT_PROJECT_DIR="$project" "$SQLFLUFF" lint "$@" >"$log" 2>&1; then status=1; fi
  cat "$log"
  if grep -q 'Skipped file' "$log"; then
    printf 'dbt_learn lint: ERROR: sqlfluff skipped files of %s (above): fix the compile error, or add a file that\n' \
      "$project" >&2
    printf '  can only compile against built models to .sqlfluffignore\n' >&2
    status=1
  fi
  rm -f "$log"
}

lint_project . models
lint_project integration_tests integration_tests/models
lint_project demo demo/models
# The SQL inside macros/ (the jinja templater, one view per macro: see the script).
"$PYTHON" scripts/lint_macros.py || status=1
exit "$status"
