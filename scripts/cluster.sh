#!/usr/bin/env bash
# The repo's private Postgres cluster (never the system one): data, socket and log under .dbt_learn_local/.
#   init    initdb, once (the Makefile runs it only while pgdata/PG_VERSION is missing)
#   start   choose the port, start the server if it is down, create roles/database/extension, write the env file
#   stop    fast shutdown, if running
#   status  say whether it runs and where
. "$(dirname "$0")/lib.sh"

DATABASE=dbt_learn
ADMIN_USER=dbt_learn_admin
DBT_USER=dbt_learn_dbt
ADMIN_PASSWORD="${DBT_LEARN_ADMIN_PASSWORD:-dbt_learn_admin}"
PASSWORD="${DBT_LEARN_PASSWORD:-dbt_learn}"
SCHEMA="${DBT_LEARN_SCHEMA:-dbt_learn_dev}"
FIRST_PORT=55432

# --- OS user and directories ------------------------------------------------------------------------------
ensure_pg_user() {
  is_root || return 0
  id -u "$PG_USER" >/dev/null 2>&1 && return 0
  say "creating system user $PG_USER to run the cluster (Postgres refuses to run as root)"
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
}

prepare_dirs() {
  mkdir -p "$LOCAL_DIR" "$PGDATA_DIR" "$SOCKET_DIR"
  chmod 755 "$LOCAL_DIR"            # the cluster user walks through it to pgdata and the server venv
  touch "$PG_LOG"
  if is_root; then chown "$PG_USER:" "$PGDATA_DIR" "$SOCKET_DIR" "$PG_LOG"; fi
  # Local connections are trusted, so only the cluster user (and root) may reach the socket.
  chmod 700 "$PGDATA_DIR" "$SOCKET_DIR"
  # A Unix socket path is limited to 107 bytes; Postgres appends "/.s.PGSQL.<port>".
  [ "${#SOCKET_DIR}" -le 90 ] || die "the repo path is too deep for a Unix socket ($SOCKET_DIR); clone it higher up."
}

# As root, the cluster user must traverse every parent of .dbt_learn_local and read the server venv.
check_access() {
  is_root || return 0
  local d="$LOCAL_DIR" dirs=() bad
  while :; do dirs=("$d" "${dirs[@]}"); [ "$d" = / ] && break; d="$(dirname "$d")"; done
  # shellcheck disable=SC2016 # the inner script expands its own "$d"
  bad="$(as_pg sh -c 'for d do [ -x "$d" ] || { echo "$d"; exit 0; }; done' sh "${dirs[@]}")"
  [ -z "$bad" ] || die "OS user '$PG_USER' (who runs the cluster) cannot enter $bad.
  Fix: chmod o+x '$bad'   (or clone the repo under a directory others can traverse)"
  if [ -x "$SERVER_VENV/bin/python" ]; then
    local sp; sp="$(server_site_packages)"
    as_pg test -r "$sp/numpy/__init__.py" \
      || die "OS user '$PG_USER' cannot read the server venv ($sp). Fix: chmod -R a+rX '$SERVER_VENV'"
  fi
}

# A copied tree (cp -a of a repo whose cluster runs) carries a postmaster.pid naming the other data dir:
# Postgres would refuse to start over it, and pg_ctl status would report the other clone's server.
drop_foreign_pid_file() {
  local pidfile="$PGDATA_DIR/postmaster.pid"
  [ -f "$pidfile" ] || return 0
  if [ "$(sed -n 2p "$pidfile")" != "$PGDATA_DIR" ]; then
    say "removing a postmaster.pid copied from $(sed -n 2p "$pidfile")"
    rm -f "$pidfile"
  fi
}

# --- port ---------------------------------------------------------------------------------------------------
# Free = nothing listens on 127.0.0.1:<port> (a bind test, as Postgres will do) and no other server's socket file.
port_free() {
  local p=$1 d
  for d in /var/run/postgresql /tmp; do [ ! -e "$d/.s.PGSQL.$p" ] || return 1; done
  "$SERVER_PYTHON" - "$p" <<'PY'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)   # like Postgres: TIME_WAIT leftovers don't count
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

pick_port() {
  local p
  for ((p = $1; p < $1 + 500; p++)); do
    if port_free "$p"; then echo "$p"; return; fi
  done
  die "no free TCP port in $1..$(($1 + 499)); set DBT_LEARN_PGPORT"
}

# Sets PORT: DBT_LEARN_PGPORT if given, else the running server's, else the remembered one while still free.
choose_port() {
  local running="" old
  if cluster_running; then running="$(sed -n 4p "$PGDATA_DIR/postmaster.pid")"; fi
  if [ -n "${DBT_LEARN_PGPORT:-}" ]; then
    [[ "$DBT_LEARN_PGPORT" =~ ^[0-9]+$ ]] || die "DBT_LEARN_PGPORT must be a number, not '$DBT_LEARN_PGPORT'"
    PORT=$DBT_LEARN_PGPORT
    [ "$PORT" = "$running" ] || port_free "$PORT" || die "DBT_LEARN_PGPORT=$PORT is already in use on 127.0.0.1"
  elif [ -n "$running" ]; then
    PORT=$running
  elif [ -s "$PORT_FILE" ]; then
    old="$(cat "$PORT_FILE")"
    if port_free "$old"; then PORT=$old
    else PORT="$(pick_port $((old + 1)))"; say "port $old is now taken by something else; using port $PORT instead"
    fi
  else
    PORT="$(pick_port "$FIRST_PORT")"; say "picked free port $PORT for the cluster"
  fi
  echo "$PORT" >"$PORT_FILE"
}

# --- server ----------------------------------------------------------------------------------------------------
# Settings live in an included file we own, so postgresql.conf stays initdb's and a rerun can rewrite them.
write_conf() {
  local conf="$PGDATA_DIR/dbt_learn.conf" new
  new="# Written by scripts/cluster.sh on every start; edit the script, not this file.
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$SOCKET_DIR'
max_connections = 50
shared_buffers = 256MB
work_mem = 64MB
synchronous_commit = off   # a dev cluster: a crash may lose the last commits, never corrupt data"
  if [ -f "$conf" ] && [ "$(cat "$conf")" = "$new" ]; then CONF_CHANGED=0; return; fi
  printf '%s\n' "$new" >"$conf"
  if is_root; then chown "$PG_USER:" "$conf"; fi
  CONF_CHANGED=1
}

start_server() {
  if cluster_running; then
    if [ "$CONF_CHANGED" = 1 ]; then
      say "settings changed: restarting the cluster on port $PORT"
      logged pg_ctl-restart as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -m fast -w -t 60 restart
    fi
    return
  fi
  say "starting the cluster on 127.0.0.1:$PORT as OS user $PG_USER (log: .dbt_learn_local/postgres.log)"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t 60 start >/dev/null; then
    tail -n 20 "$PG_LOG" >&2
    die "the cluster did not start; see $PG_LOG"
  fi
}

# Idempotent: creates what is missing and (re)sets passwords from the environment every time.
ensure_roles() {
  PGOPTIONS='-c client_min_messages=warning' "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCKET_DIR" -p "$PORT" -U "$PG_USER" -d postgres \
    -v admin_password="$ADMIN_PASSWORD" -v password="$PASSWORD" >/dev/null <<SQL
SELECT 'CREATE ROLE $ADMIN_USER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ADMIN_USER') \gexec
ALTER ROLE $ADMIN_USER WITH LOGIN SUPERUSER PASSWORD :'admin_password';
SELECT 'CREATE ROLE $DBT_USER' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DBT_USER') \gexec
ALTER ROLE $DBT_USER WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD :'password';
SELECT 'CREATE DATABASE $DATABASE OWNER $ADMIN_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE') \gexec
GRANT CREATE, CONNECT, TEMPORARY ON DATABASE $DATABASE TO $DBT_USER;
-- Monitoring is plain SQL: this database stands in for a managed Postgres where PL/Python cannot be installed.
SELECT 'CREATE DATABASE ${DATABASE}_plain OWNER $ADMIN_USER'
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '${DATABASE}_plain') \gexec
GRANT CREATE, CONNECT, TEMPORARY ON DATABASE ${DATABASE}_plain TO $DBT_USER;
\connect $DATABASE $ADMIN_USER
CREATE EXTENSION IF NOT EXISTS plpython3u;
SQL
}

# The one place other tools (make test/demo/psql, pytest, dbt via profiles.yml) learn how to connect.
write_env() {
  local sp="" tmp="$ENV_FILE.tmp"
  if [ -x "$SERVER_VENV/bin/python" ]; then sp="$(server_site_packages)"; fi
  {
    echo "# Written by 'make setup' (scripts/cluster.sh): source it to talk to this repo's private cluster."
    local kv
    for kv in \
      DBT_LEARN_HOST=127.0.0.1 \
      "DBT_LEARN_PORT=$PORT" \
      "DBT_LEARN_SOCKET_DIR=$SOCKET_DIR" \
      "DBT_LEARN_DATABASE=$DATABASE" \
      "DBT_LEARN_PLAIN_DATABASE=${DATABASE}_plain" \
      "DBT_LEARN_USER=$DBT_USER" \
      "DBT_LEARN_PASSWORD=$PASSWORD" \
      "DBT_LEARN_ADMIN_USER=$ADMIN_USER" \
      "DBT_LEARN_ADMIN_PASSWORD=$ADMIN_PASSWORD" \
      "DBT_LEARN_SCHEMA=$SCHEMA" \
      "DBT_LEARN_SERVER_SITE_PACKAGES=$sp" \
      "DBT_LEARN_PG_BIN=$PG_BIN" \
      "DBT_PROFILES_DIR=$LOCAL_DIR/profiles" \
      DBT_SEND_ANONYMOUS_USAGE_STATS=false; do
      printf 'export %s=%q\n' "${kv%%=*}" "${kv#*=}"
    done
  } >"$tmp"
  chmod 600 "$tmp"                  # it holds passwords
  mv "$tmp" "$ENV_FILE"
  mkdir -p "$LOCAL_DIR/profiles"
  cp "$REPO_ROOT/profiles.example.yml" "$LOCAL_DIR/profiles/profiles.yml"
}

# --- commands --------------------------------------------------------------------------------------------------
if [ "${1:-}" != init ] && [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
  case "${1:-}" in
    stop) say "no cluster in this repo yet"; exit 0 ;;
    status) say "no cluster in this repo yet"; exit 3 ;;
    start) die "no cluster in $PGDATA_DIR; run 'make setup'" ;;
  esac
fi
# Two makes at once in one repo (say `make test` in two terminals) must not both start the server.
mkdir -p "$LOCAL_DIR"
exec 9>"$LOCAL_DIR/.cluster.lock"
flock 9

case "${1:-}" in
  init)
    ensure_pg_user
    prepare_dirs
    check_access
    if [ -f "$PGDATA_DIR/PG_VERSION" ]; then exit 0; fi
    [ -z "$(ls -A "$PGDATA_DIR")" ] || die "$PGDATA_DIR is not empty but holds no cluster; remove it ('make clean')."
    locale=C.UTF-8
    locale -a 2>/dev/null | grep -qix 'c.utf-\?8' || locale=C
    say "initialising a Postgres $PG_MAJOR cluster in .dbt_learn_local/pgdata (OS user $PG_USER)"
    logged initdb as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale="$locale"
    printf "\n# dbt_learn: this repo's dev-cluster settings (see scripts/cluster.sh)\ninclude_if_exists = 'dbt_learn.conf'\n" \
      >>"$PGDATA_DIR/postgresql.conf"
    ;;
  start)
    ensure_pg_user
    prepare_dirs
    check_access
    drop_foreign_pid_file
    choose_port
    write_conf
    start_server
    ensure_roles
    write_env
    ;;
  stop)
    if cluster_running; then
      say "stopping the cluster"
      logged pg_ctl-stop as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop
    else
      say "the cluster is not running"
    fi
    ;;
  status)
    if cluster_running; then say "running on 127.0.0.1:$(sed -n 4p "$PGDATA_DIR/postmaster.pid"), socket $SOCKET_DIR"
    else say "not running"; exit 3
    fi
    ;;
  *)
    die "usage: $0 init|start|stop|status"
    ;;
esac
