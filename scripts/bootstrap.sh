#!/usr/bin/env bash
# Installs the dbt_learn package into the database (schema, registry, SECURITY DEFINER functions, grants) by
# running its install macro as the admin role, pointed at the server venv's site-packages.
# Usage: scripts/bootstrap.sh PROJECT_DIR   (a dbt project that uses the package, e.g. integration_tests)
. "$(dirname "$0")/lib.sh"

project="${1:?usage: $0 PROJECT_DIR}"
load_env
[ -n "${DBT_LEARN_SERVER_SITE_PACKAGES:-}" ] || die "the env file names no server site-packages; run 'make setup'"

say "installing dbt_learn into database $DBT_LEARN_DATABASE as $DBT_LEARN_ADMIN_USER (log: .dbt_learn_local/logs/bootstrap.log)"
cd "$REPO_ROOT"
logged bootstrap "$CLIENT_VENV/bin/dbt" run-operation dbt_learn.install --project-dir "$project" --target admin \
  --args "{site_packages: '$DBT_LEARN_SERVER_SITE_PACKAGES', dbt_role: $DBT_LEARN_USER, allow_python_models: true}"
# Echo the macro's own summary line (runtime version, grants) so the setup output shows what was installed.
grep -o 'dbt_learn.install: .*' "$LOG_DIR/bootstrap.log" | sed 's/^/dbt_learn setup: /' || true
# A local pgbouncer (scripts/pgbouncer.sh) keeps backends that loaded the previous runtime: let them reconnect.
if [ -f "$LOCAL_DIR/pgbouncer/pgbouncer.pid" ]; then bash "$REPO_ROOT/scripts/pgbouncer.sh" reconnect || true; fi
