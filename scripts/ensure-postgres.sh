#!/usr/bin/env bash
# Makes sure the machine's PostgreSQL is up and has the test database, then prints its URL on
# stdout (progress goes to stderr), for example in .ci/run:
#
#   LONGRUN_TEST_POSTGRES_URL="$(scripts/ensure-postgres.sh)" || exit 1
#   export LONGRUN_TEST_POSTGRES_URL
#
# Settings (environment): PGHOST (127.0.0.1), PGPORT (5432), PGUSER (postgres), and
# LONGRUN_TEST_DATABASE (test). Starts a stopped Debian cluster with pg_ctlcluster; it does not
# install PostgreSQL (apt-get install postgresql).
set -euo pipefail

host="${PGHOST:-127.0.0.1}"
port="${PGPORT:-5432}"
user="${PGUSER:-postgres}"
database="${LONGRUN_TEST_DATABASE:-test}"
log() { printf 'ensure-postgres: %s\n' "$*" >&2; }

ready() { pg_isready -q -h "$host" -p "$port" -t 2 >/dev/null 2>&1; }

if ! command -v pg_isready >/dev/null 2>&1; then
  log "pg_isready not found: install PostgreSQL (apt-get install postgresql)"
  exit 1
fi

if ! ready; then
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d /etc/postgresql ]; then
    log "nothing answers on $host:$port and there is no Debian cluster to start"
    exit 1
  fi
  # Start the cluster(s) configured on this port.
  found=""
  for conf in /etc/postgresql/*/*/postgresql.conf; do
    [ -e "$conf" ] || continue
    dir="$(dirname "$conf")"
    cluster="$(basename "$dir")"
    version="$(basename "$(dirname "$dir")")"
    cluster_port="$(sed -n 's/^[[:space:]]*port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$conf" | tail -n 1)"
    [ "${cluster_port:-5432}" = "$port" ] || continue
    found=1
    log "starting PostgreSQL $version/$cluster on port $port"
    pg_ctlcluster --skip-systemctl-redirect "$version" "$cluster" start >&2 || true
  done
  if [ -z "$found" ]; then
    log "nothing answers on $host:$port and no cluster in /etc/postgresql is configured for that port"
    exit 1
  fi
  for _ in $(seq 1 60); do
    ready && break
    sleep 0.5
  done
  if ! ready; then
    log "PostgreSQL did not come up on $host:$port within 30 s; see /var/log/postgresql/"
    exit 1
  fi
fi

exists="$(psql -X -q -At -h "$host" -p "$port" -U "$user" -d postgres \
  -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" || {
  log "cannot connect as $user to $host:$port (the tests expect trust authentication)"
  exit 1
}
if [ "$exists" != "1" ]; then
  log "creating database $database"
  psql -X -q -h "$host" -p "$port" -U "$user" -d postgres -c "CREATE DATABASE \"$database\"" >&2
fi

version="$(psql -X -q -At -h "$host" -p "$port" -U "$user" -d "$database" -c 'SHOW server_version')"
log "PostgreSQL $version is up on $host:$port, database $database"
printf 'postgres://%s@%s:%s/%s\n' "$user" "$host" "$port" "$database"
