#!/usr/bin/env bash
# Runs pytest in the client venv against the private cluster. Every non-zero exit is a failure, pytest's exit 5
# ("no tests collected") included: a mistyped selection must not pass CI.
. "$(dirname "$0")/lib.sh"

load_env
cd "$REPO_ROOT"
rc=0
"$CLIENT_VENV/bin/python" -m pytest "$@" || rc=$?
if [ "$rc" -eq 5 ]; then
  echo "dbt_learn test: pytest collected no tests (exit 5): check the selection ($*)" >&2
fi
exit "$rc"
