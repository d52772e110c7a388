#!/usr/bin/env bash
# Builds the two Python environments. The Makefile calls each step only when its stamp is older than its inputs.
#   client          .venv/ from `python3` on PATH: dbt, pytest, the pinned libraries, the runtime (editable)
#   server-deps     .dbt_learn_local/server-venv/ from /usr/bin/python3: the pinned libraries PL/Python imports
#   server-runtime  the runtime package, installed non-editable into the server venv (reinstalled on every change)
. "$(dirname "$0")/lib.sh"

CLIENT_PYTHON="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1

# setuptools would otherwise build in-tree (build/, *.egg-info next to the sources): a stale build/lib can even
# ship modules deleted since. A throwaway build dir per install keeps the work tree clean and the wheel honest.
BUILD_TMP="$(mktemp -d "${TMPDIR:-/tmp}/dbt_learn-build.XXXXXX")"
trap 'rm -rf "$BUILD_TMP"' EXIT
printf '[build]\nbuild_base = %s/build\n[egg_info]\negg_base = %s\n' "$BUILD_TMP" "$BUILD_TMP" >"$BUILD_TMP/setup.cfg"
export DIST_EXTRA_CONFIG="$BUILD_TMP/setup.cfg"

# (Re)create a venv unless a working one is there already: pip then only adds what changed.
ensure_venv() {
  local dir=$1 python=$2
  if [ -x "$dir/bin/python" ] && "$dir/bin/python" -c '' 2>/dev/null; then return; fi
  command -v "$python" >/dev/null || die "'$python' not found; it is needed to create $dir"
  rm -rf "$dir"
  say "creating $dir with $("$python" -c 'import sys; print(sys.executable, sys.version.split()[0])')"
  logged "venv-$(basename "$dir")" "$python" -m venv "$dir"
}

# The cluster may run as another OS user (postgres), which must read everything in the server venv.
open_up() { chmod -R a+rX "$1"; }

case "${1:-}" in
  client)
    ensure_venv "$CLIENT_VENV" "$CLIENT_PYTHON"
    say "installing requirements/client.txt into .venv (log: .dbt_learn_local/logs/pip-client.log)"
    logged pip-client "$CLIENT_VENV/bin/pip" install -r "$REPO_ROOT/requirements/client.txt"
    if [ -f "$REPO_ROOT/pyproject.toml" ]; then
      say "installing the runtime package into .venv (editable)"
      logged pip-client-runtime "$CLIENT_VENV/bin/pip" install -e "$REPO_ROOT"
    else
      say "no pyproject.toml yet: skipping the runtime package in .venv"
    fi
    touch "$CLIENT_VENV/.dbt_learn.stamp"
    ;;
  server-deps)
    ensure_venv "$SERVER_VENV" "$SERVER_PYTHON"
    say "installing requirements/server.txt into the server venv (log: .dbt_learn_local/logs/pip-server.log)"
    logged pip-server "$SERVER_VENV/bin/pip" install -r "$REPO_ROOT/requirements/server.txt"
    # Fail here, not inside Postgres, if a wheel does not load under the server's Python.
    logged server-import-check "$SERVER_VENV/bin/python" -c 'import numpy, scipy, sklearn, pandas, joblib'
    open_up "$SERVER_VENV"
    touch "$SERVER_VENV/.dbt_learn-deps.stamp"
    ;;
  server-runtime)
    if [ ! -f "$REPO_ROOT/pyproject.toml" ]; then
      say "no pyproject.toml yet: skipping the runtime package in the server venv"
      touch "$SERVER_VENV/.dbt_learn-runtime.stamp"
      exit 0
    fi
    say "installing the runtime package into the server venv (non-editable)"
    logged pip-server-runtime "$SERVER_VENV/bin/pip" install --no-deps --force-reinstall "$REPO_ROOT"
    logged server-runtime-check "$SERVER_VENV/bin/python" -c \
      'import importlib.util, sys; sys.exit(importlib.util.find_spec("dbt_learn") is None)'
    open_up "$SERVER_VENV"
    touch "$SERVER_VENV/.dbt_learn-runtime.stamp"
    say "server site-packages: $(server_site_packages)"
    ;;
  *)
    die "usage: $0 client|server-deps|server-runtime"
    ;;
esac
