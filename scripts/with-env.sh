#!/usr/bin/env bash
# Runs a command with .dbt_learn_local/env loaded, so it talks to this repo's private cluster.
# A DBT_LEARN_SCHEMA set by the caller wins over the file's, so runs can use their own schema.
. "$(dirname "$0")/lib.sh"

caller_schema="${DBT_LEARN_SCHEMA:-}"
load_env
if [ -n "$caller_schema" ]; then export DBT_LEARN_SCHEMA="$caller_schema"; fi
# psql, pg_dump & co. of the cluster's own major first.
export PATH="$DBT_LEARN_PG_BIN:$PATH"
exec "$@"
