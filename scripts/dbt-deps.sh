#!/usr/bin/env bash
# Installs a dbt project's packages: `dbt deps` when the package hub answers, else a local mirror.
# The hub is unreachable from the project's machines: there `dbt deps` fails on the DNS lookup after its 5 retries
# (about 7 s), so the timeout only guards against a network that hangs instead of refusing.
# Usage: scripts/dbt-deps.sh PROJECT_DIR   (relative to the repo root, e.g. integration_tests)
. "$(dirname "$0")/lib.sh"

project="${1:?usage: $0 PROJECT_DIR}"
project_dir="$REPO_ROOT/$project"
packages_dir="$project_dir/dbt_packages"
stamp="$packages_dir/.dbt_learn_deps.stamp"   # inside dbt_packages: gone whenever dbt deps or dbt clean empties it
mirror="${DBT_LEARN_PACKAGES_MIRROR:-$REPO_ROOT/../shared/vendor}"
[ -f "$project_dir/packages.yml" ] || die "$project/packages.yml not found"
load_env

# "key: value" entries of a packages.yml (package:/local:/git:/tarball:), one "key value" a line, unquoted.
package_entries() {
  sed -nE "s/^[[:space:]]*-?[[:space:]]*(package|local|git|tarball|private):[[:space:]]*['\"]?([^'\"#[:space:]]*).*/\1 \2/p" "$1"
}

# A dbt project's name, from its dbt_project.yml.
project_name() {
  sed -nE "s/^name:[[:space:]]*['\"]?([A-Za-z0-9_]+).*/\1/p" "$1/dbt_project.yml" | head -n 1
}

# Fill dbt_packages/ as `dbt deps` would: hub packages copied from the mirror (also those a local package needs,
# one level down), local packages as relative symlinks.
fill_from_mirror() {
  local kind ref name target hub=() locals=()
  while read -r kind ref; do
    case "$kind" in
      package) hub+=("${ref##*/}") ;;
      local) locals+=("$ref") ;;
      *) die "$project/packages.yml has a $kind package, which the mirror cannot provide" ;;
    esac
  done < <(package_entries "$project_dir/packages.yml")
  for ref in "${locals[@]}"; do
    [ -f "$project_dir/$ref/packages.yml" ] || continue
    while read -r kind target; do
      if [ "$kind" = package ]; then hub+=("${target##*/}"); fi
    done < <(package_entries "$project_dir/$ref/packages.yml")
  done

  rm -rf "$packages_dir"
  mkdir -p "$packages_dir"
  for name in $(printf '%s\n' "${hub[@]}" | sort -u); do
    [ -f "$mirror/$name/dbt_project.yml" ] || die "the mirror $mirror has no $name package"
    cp -R "$mirror/$name" "$packages_dir/$name"
    chmod -R u+w "$packages_dir/$name"     # the mirror is read-only; keep 'make clean' able to delete the copy
  done
  for ref in "${locals[@]}"; do
    name="$(project_name "$project_dir/$ref")"
    [ -n "$name" ] || die "$project/$ref has no dbt_project.yml with a name"
    case "$ref" in
      /*) target="$ref" ;;
      *) target="../${ref%/}" ;;             # relative to dbt_packages/, so the tree can move
    esac
    ln -sfn "$target" "$packages_dir/$name"
  done
}

log="$LOG_DIR/dbt-deps-${project//\//_}.log"
mkdir -p "$LOG_DIR"
if (cd "$project_dir" && timeout "${DBT_LEARN_DEPS_TIMEOUT:-60}" "$CLIENT_VENV/bin/dbt" deps) >"$log" 2>&1; then
  say "$project: dbt deps installed the packages from the hub"
  mkdir -p "$packages_dir" && echo hub >"$stamp"
else
  rc=$?
  [ "$rc" = 124 ] && why="timed out" || why="failed (exit $rc)"
  [ -d "$mirror" ] || { tail -n 20 "$log" >&2; die "$project: dbt deps $why (log: $log) and there is no package mirror at $mirror (set DBT_LEARN_PACKAGES_MIRROR)"; }
  mirror="$(cd "$mirror" && pwd -P)"
  fill_from_mirror
  say "$project: the dbt package hub is unreachable (dbt deps $why); used the local mirror $mirror"
  echo "mirror $mirror" >"$stamp"
fi
