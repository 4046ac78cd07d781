#!/usr/bin/env bash
# Makes sure Debian's python3-googleapi (Google's Python discovery client) is importable by
# /usr/bin/python3, for the discovery document's conformance test (test/discovery/). Idempotent:
# does nothing when `import googleapiclient` already works.
#
#   scripts/ensure-python-client.sh && npx vitest run test/discovery
#
# When the module is missing it installs the Debian package (apt-get, as root); otherwise it says
# what to do and exits non-zero. It never uses pip: the test runs the distribution's client, the
# one the seed documents were generated from.
set -euo pipefail

python=/usr/bin/python3
log() { printf 'ensure-python-client: %s\n' "$*" >&2; }
version() { "$python" -c 'import googleapiclient; print(googleapiclient.__version__)' 2>/dev/null; }

if found="$(version)"; then
  log "found googleapiclient $found for $python"
  exit 0
fi

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  log "$python cannot import googleapiclient, and this script can only install it as root with apt-get."
  log "install Debian's python3-googleapi package yourself (sudo apt-get install python3-googleapi), then run it again."
  exit 1
fi

log "installing Debian's python3-googleapi package"
export DEBIAN_FRONTEND=noninteractive
# Other installs may hold dpkg's lock for a while: wait for it rather than fail.
apt-get -o DPkg::Lock::Timeout=600 update >&2
apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends python3-googleapi >&2

if ! found="$(version)"; then
  log "apt-get finished but $python still cannot import googleapiclient"
  exit 1
fi
log "installed googleapiclient $found"
