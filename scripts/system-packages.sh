#!/usr/bin/env bash
# Checks (and, as root, installs) the Debian packages the private cluster needs: the Postgres server, PL/Python
# for that major, venv support for /usr/bin/python3, pgbouncer (the session pool of scripts/pgbouncer.sh, which
# make demo uses) and shellcheck (make lint). Cheap file checks, so it runs on every `make setup`.
. "$(dirname "$0")/lib.sh"

missing_packages() {
  local pkgs=()
  [ -x "$PG_BIN/postgres" ] && [ -x "$PG_BIN/initdb" ] || pkgs+=("postgresql-$PG_MAJOR")
  [ -f "/usr/lib/postgresql/$PG_MAJOR/lib/plpython3.so" ] || pkgs+=("postgresql-plpython3-$PG_MAJOR")
  # Debian splits ensurepip out of python3; without it `python3 -m venv` cannot make the server venv.
  { [ -x "$SERVER_PYTHON" ] && "$SERVER_PYTHON" -c 'import ensurepip' 2>/dev/null; } || pkgs+=(python3-venv)
  command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || pkgs+=(pgbouncer)
  command -v shellcheck >/dev/null || pkgs+=(shellcheck)
  # The model report's test renders its pages in a real headless browser.
  command -v chromium >/dev/null || pkgs+=(chromium)
  echo "${pkgs[*]}"
}

missing="$(missing_packages)"
if [ -z "$missing" ]; then
  exit 0
fi

if ! is_root; then
  die "missing Debian packages: $missing
  install them with:  sudo apt-get update && sudo apt-get install -y $missing
  then run 'make setup' again."
fi

say "installing Debian packages: $missing"
export DEBIAN_FRONTEND=noninteractive
logged apt-get-update apt-get update
# shellcheck disable=SC2086
logged apt-get-install apt-get install -y --no-install-recommends $missing

missing="$(missing_packages)"
[ -z "$missing" ] || die "still missing after apt-get install: $missing (see $LOG_DIR/apt-get-install.log)"
say "Debian packages installed"
