#!/usr/bin/env bash
# The docs in a real browser: starts a seeded server (tests/support/live-server.sh) and runs docs.mjs in
# headless Chromium. Needs node/npm and jq; installs Debian's chromium with apt when /usr/bin/chromium is
# missing (as root).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "run.sh: /usr/bin/chromium is missing; install it with: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "run.sh: installing chromium (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# playwright-core never downloads a browser by itself; this keeps it so if that ever changes.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

source "$root/tests/support/live-server.sh"
start_live_server
export SHOPVO_URL="$LIVE_URL" SHOPVO_SITE="$LIVE_SITE" SHOPVO_KEY="$LIVE_KEY"
export SHOPVO_SCREENSHOT="$root/target/docs.png"

echo "run.sh: server at $LIVE_URL, site $LIVE_SITE; running docs.mjs in Chromium"
(cd "$here" && timeout 180 node docs.mjs)
