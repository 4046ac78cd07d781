#!/usr/bin/env bash
# The test command (`npm test`): prepares what the tests need on this machine, then type-checks,
# lints and runs every test. Each preparation step is idempotent; one that cannot be done here
# (no root, no apt) prints why, and the tests that need it skip with a visible message, except
# under CI (CI=true), where they fail instead.
set -uo pipefail
cd "$(dirname "$0")/.."

prepare() {
  local script="scripts/$1"
  [ -f "$script" ] || return 0
  if ! bash "$script" >&2; then
    echo "test: $1 could not prepare this machine; the tests that need it will say so" >&2
  fi
}

if [ -z "${LONGRUN_TEST_POSTGRES_URL:-}" ] && [ -f scripts/ensure-postgres.sh ]; then
  if url="$(bash scripts/ensure-postgres.sh)"; then
    export LONGRUN_TEST_POSTGRES_URL="$url"
  else
    echo "test: no PostgreSQL; its tests will skip (set LONGRUN_TEST_POSTGRES_URL to run them)" >&2
  fi
fi
prepare ensure-python-client.sh
prepare ensure-chromium.sh

set -e
npx tsc -b  # packages and tests alike: the tests are type-checked too
npx biome check .
npx vitest run "$@"
