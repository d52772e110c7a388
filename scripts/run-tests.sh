#!/usr/bin/env bash
# Runs pytest in the client venv against the private cluster. pytest's exit 5 ("no tests collected") counts as
# success, so a suite that is still empty does not fail CI; every other non-zero exit is a failure.
. "$(dirname "$0")/lib.sh"

load_env
cd "$REPO_ROOT"
rc=0
"$CLIENT_VENV/bin/python" -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "dbt_learn test: pytest collected no tests (exit 5); treated as success"
  exit 0
fi
exit "$rc"
