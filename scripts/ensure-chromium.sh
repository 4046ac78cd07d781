#!/usr/bin/env bash
# Makes sure Debian's chromium is installed, for the console's browser tests (test/console/),
# which drive it with playwright-core. Idempotent: does nothing when /usr/bin/chromium exists.
#
#   scripts/ensure-chromium.sh && npx vitest run test/console
#
# When chromium is missing it installs the Debian package (apt-get, as root); otherwise it says
# what to do and exits non-zero. It never downloads a browser build of its own (no
# `playwright install`): the tests use the distribution's chromium.
set -euo pipefail

chromium="${LONGRUN_CHROMIUM:-/usr/bin/chromium}"
log() { printf 'ensure-chromium: %s\n' "$*" >&2; }

if [ -x "$chromium" ]; then
  log "found $chromium ($("$chromium" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "$chromium is missing and this script can only install it as root with apt-get."
  log "install Debian's chromium package yourself (sudo apt-get install chromium), then run it again."
  exit 1
fi

log "installing Debian's chromium package"
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends chromium >&2

if [ ! -x "$chromium" ]; then
  log "apt-get finished but $chromium is still missing"
  exit 1
fi
log "installed $("$chromium" --version 2>/dev/null || echo "$chromium")"
