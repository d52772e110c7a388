#!/usr/bin/env bash
# A pgbouncer in session mode in front of the private cluster, so a dbt_learn backend - which imports scikit-learn
# on its first call (about 1 s) - serves dbt's next connection instead of dying with the last one.
#   start      write the config under .dbt_learn_local/pgbouncer/ and start it (if down), on the cluster's port + 1
#   stop       stop it (the pooled backends end with it)
#   reconnect  close every pooled server connection once its client leaves: run it after reinstalling the runtime
#              (make setup), so no pooled backend keeps the old runtime loaded
#   port       print its port
#   status     say whether it runs and where
# Use it by pointing dbt at its port: DBT_LEARN_PORT=$(scripts/pgbouncer.sh port) dbt run ...
. "$(dirname "$0")/lib.sh"

BOUNCER_DIR="$LOCAL_DIR/pgbouncer"
INI="$BOUNCER_DIR/pgbouncer.ini"
PID_FILE="$BOUNCER_DIR/pgbouncer.pid"
BOUNCER_LOG="$BOUNCER_DIR/pgbouncer.log"
BOUNCER_PORT_FILE="$BOUNCER_DIR/port"
# Backends live at most this long (the runtime and imported libraries with them); idle ones close sooner.
SERVER_LIFETIME="${DBT_LEARN_POOL_LIFETIME:-3600}"
SERVER_IDLE_TIMEOUT="${DBT_LEARN_POOL_IDLE_TIMEOUT:-600}"
POOL_SIZE="${DBT_LEARN_POOL_SIZE:-8}"
MIN_POOL_SIZE="${DBT_LEARN_MIN_POOL_SIZE:-3}"
# Dollar-quoted: the ini value is in single quotes.
# shellcheck disable=SC2016 # $$...$$ is SQL dollar quoting, not shell expansion
WARM_UP='select dbt_learn.describe_algorithm($$pool warm-up$$, $$linear_regression$$, $${}$$::jsonb, 0)'

bouncer_running() {
  [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null
}

bouncer_port() {
  if [ -f "$BOUNCER_PORT_FILE" ]; then cat "$BOUNCER_PORT_FILE"; else echo $((DBT_LEARN_PORT + 1)); fi
}

write_config() {
  local port="$1"
  mkdir -p "$BOUNCER_DIR"
  chmod 700 "$BOUNCER_DIR"
  # Passwords as the env file has them: pgbouncer answers the clients' SCRAM and logs in to the server with them.
  printf '"%s" "%s"\n"%s" "%s"\n' "$DBT_LEARN_USER" "$DBT_LEARN_PASSWORD" \
    "$DBT_LEARN_ADMIN_USER" "$DBT_LEARN_ADMIN_PASSWORD" >"$BOUNCER_DIR/userlist.txt"
  cat >"$INI" <<EOF
; Written by scripts/pgbouncer.sh; edits are overwritten on the next start.
[databases]
; connect_query imports scikit-learn into each new backend before any client gets it (errors are logged and
; ignored, e.g. before dbt_learn is installed); min_pool_size below keeps such backends ready.
* = host=$DBT_LEARN_HOST port=$DBT_LEARN_PORT connect_query='$WARM_UP'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BOUNCER_DIR/userlist.txt
; session: a client keeps one backend until it disconnects, so session state (temporary tables, SET, PL/Python's
; per-backend caches) behaves exactly as on a direct connection; DISCARD ALL cleans the backend between clients.
pool_mode = session
server_reset_query = DISCARD ALL
; No "select 1" health check before handing out a backend idle for 30 s: dbt opens and at once closes a connection
; at start-up, and a client leaving during that check made pgbouncer drop the (imported, warm) backend.
server_check_query =
default_pool_size = $POOL_SIZE
; dbt closes its first (catalog) connection of a run inside an open transaction, and pgbouncer then has to drop that
; backend: keeping a few backends open (warmed by connect_query, replaced in the background) means the models that
; follow still find one that imported scikit-learn.
min_pool_size = $MIN_POOL_SIZE
max_client_conn = 200
server_lifetime = $SERVER_LIFETIME
server_idle_timeout = $SERVER_IDLE_TIMEOUT
admin_users = $DBT_LEARN_ADMIN_USER
ignore_startup_parameters = extra_float_digits,options
logfile = $BOUNCER_LOG
pidfile = $PID_FILE
EOF
  if is_root; then chown -R "$PG_USER:" "$BOUNCER_DIR"; fi
}

start() {
  local binary
  # Debian puts it in /usr/sbin, which is not on every user's PATH.
  binary="$(command -v pgbouncer || echo /usr/sbin/pgbouncer)"
  [ -x "$binary" ] || die "pgbouncer is not installed (make setup installs it; Debian/Ubuntu: apt-get install pgbouncer)."
  if bouncer_running; then say "pgbouncer already runs on port $(bouncer_port)"; return; fi
  local port
  port="$(bouncer_port)"
  write_config "$port"
  echo "$port" >"$BOUNCER_PORT_FILE"
  # pgbouncer refuses to run as root: it runs as the cluster's OS user, daemonized.
  as_pg "$binary" -d "$INI"
  for _ in $(seq 50); do bouncer_running && break; sleep 0.1; done
  bouncer_running || die "pgbouncer did not start; see $BOUNCER_LOG"
  say "pgbouncer (session pool) on 127.0.0.1:$port in front of port $DBT_LEARN_PORT"
}

stop() {
  if bouncer_running; then
    kill "$(cat "$PID_FILE")"
    for _ in $(seq 50); do bouncer_running || break; sleep 0.1; done
    say "pgbouncer stopped"
  fi
}

admin_command() {
  PGPASSWORD="$DBT_LEARN_ADMIN_PASSWORD" "$DBT_LEARN_PG_BIN/psql" -h 127.0.0.1 -p "$(bouncer_port)" \
    -U "$DBT_LEARN_ADMIN_USER" -d pgbouncer -X -q -c "$1"
}

load_env
case "${1:-status}" in
  start) start ;;
  stop) stop ;;
  reconnect) if bouncer_running; then admin_command "RECONNECT"; say "pooled backends close as clients leave"; fi ;;
  port) bouncer_port ;;
  status)
    if bouncer_running; then say "pgbouncer runs on 127.0.0.1:$(bouncer_port)"; else say "pgbouncer is not running"; fi ;;
  *) die "usage: scripts/pgbouncer.sh start|stop|reconnect|port|status" ;;
esac
