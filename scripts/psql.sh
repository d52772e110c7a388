#!/usr/bin/env bash
# psql on the private cluster as the dbt role, over TCP with its password (the same path dbt takes).
# With stdin not a terminal it runs the piped SQL without ~/.psqlrc and stops at the first error.
. "$(dirname "$0")/lib.sh"

[ -f "$ENV_FILE" ] || die "no cluster set up yet; run 'make setup' first."
# Progress goes to stderr: stdout is the query output.
if ! cluster_running; then "$REPO_ROOT/scripts/cluster.sh" start >&2; fi
load_env

args=(-h "$DBT_LEARN_HOST" -p "$DBT_LEARN_PORT" -U "$DBT_LEARN_USER" -d "$DBT_LEARN_DATABASE")
if [ ! -t 0 ]; then args+=(-X -v ON_ERROR_STOP=1); fi
PGPASSWORD="$DBT_LEARN_PASSWORD" exec "$PG_BIN/psql" "${args[@]}" "$@"
