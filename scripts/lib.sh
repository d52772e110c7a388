# shellcheck shell=bash
# shellcheck disable=SC2034 # the paths below are used by the scripts that source this file
# Shared by the setup scripts (sourced, not run): the repo's local paths, logging, and how to run Postgres
# commands as the OS user that owns the private cluster.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
LOCAL_DIR="$REPO_ROOT/.dbt_learn_local"
PGDATA_DIR="$LOCAL_DIR/pgdata"
SOCKET_DIR="$LOCAL_DIR/socket"
PG_LOG="$LOCAL_DIR/postgres.log"
PORT_FILE="$LOCAL_DIR/port"
ENV_FILE="$LOCAL_DIR/env"
LOG_DIR="$LOCAL_DIR/logs"
SERVER_VENV="$LOCAL_DIR/server-venv"
CLIENT_VENV="$REPO_ROOT/.venv"
# The server venv must be built by the Python that PL/Python embeds, never a pyenv/conda one.
SERVER_PYTHON=/usr/bin/python3

say() { printf 'dbt_learn setup: %s\n' "$*"; }
die() { printf 'dbt_learn setup: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

# The Postgres major to use: the one an existing data dir was made with (its binaries must match), else the
# newest installed server, else 15 (Debian 12's, for a machine that has none yet).
pg_major() {
  if [ -n "${DBT_LEARN_PG_MAJOR:-}" ]; then echo "$DBT_LEARN_PG_MAJOR"; return; fi
  if [ -r "$PGDATA_DIR/PG_VERSION" ]; then cat "$PGDATA_DIR/PG_VERSION"; return; fi
  local bin major="" m
  for bin in /usr/lib/postgresql/*/bin/postgres; do
    [ -x "$bin" ] || continue
    m=${bin#/usr/lib/postgresql/}; m=${m%%/*}
    if [ -z "$major" ] || [ "$m" -gt "$major" ]; then major=$m; fi
  done
  echo "${major:-15}"
}
PG_MAJOR="$(pg_major)"
PG_BIN="/usr/lib/postgresql/$PG_MAJOR/bin"

# Postgres refuses to run as root, so root runs the cluster as an unprivileged user. An existing data dir's
# owner wins, so a cluster keeps running as whoever created it.
pg_os_user() {
  if ! is_root; then id -un
  elif [ -d "$PGDATA_DIR" ] && [ "$(stat -c %u "$PGDATA_DIR")" != 0 ]; then stat -c %U "$PGDATA_DIR"
  elif id -u postgres >/dev/null 2>&1; then echo postgres
  else echo dbt_learn
  fi
}
PG_USER="$(pg_os_user)"

# Run a command as the cluster's OS user, from / so the server never needs access to the caller's cwd.
# A server started from here must not inherit open files and hold them for its whole life: fd 9 is cluster.sh's
# lock, and `flock FILE make setup` holds its lock on fd 3 (every later setup then waited forever: seen).
as_pg() {
  if is_root; then (cd / && runuser -u "$PG_USER" -- "$@") 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-
  else (cd / && "$@") 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; fi
}

# Running = our own postmaster.pid (line 2 is its data dir: a pid file copied from another clone must never lead
# us to signal that clone's server) and a live server behind it.
cluster_running() {
  [ -f "$PGDATA_DIR/postmaster.pid" ] && [ "$(sed -n 2p "$PGDATA_DIR/postmaster.pid")" = "$PGDATA_DIR" ] \
    && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

# The site-packages dir of the server venv, as its own Python reports it.
server_site_packages() {
  "$SERVER_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
}

load_env() {
  [ -f "$ENV_FILE" ] || die "$ENV_FILE is missing; run 'make setup' first."
  # shellcheck disable=SC1090
  . "$ENV_FILE"
}

# Run a command with its output in a log file; on failure show the tail, so CI logs say why.
logged() {
  local log="$LOG_DIR/$1.log"; shift
  mkdir -p "$LOG_DIR"
  if ! "$@" >"$log" 2>&1; then
    printf 'dbt_learn setup: ERROR: failed: %s\n--- last lines of %s ---\n' "$*" "$log" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
}
