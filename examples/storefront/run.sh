#!/usr/bin/env bash
# The storefront client, end to end against a real server (CI runs this; see README, "Storefront client").
#
#   examples/storefront/run.sh
#
# Installs the locked npm packages, generates schema.d.ts from the committed openapi/openapi.json, type-checks
# main.ts with `tsc --strict`, builds the server, starts it on a free loopback port with a private PostgreSQL
# in a temporary folder, seeds the demo site, runs the client and checks that it placed an order.
# Needs Node 20+ with npm, cargo, jq, curl and the PostgreSQL server binaries. KEEP=1 keeps the temporary
# folder (server and PostgreSQL logs).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'storefront/run.sh: %s\n' "$*" >&2; exit 1; }
for tool in node npm cargo jq curl; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

cd "$HERE"
log "npm ci"
npm ci --no-audit --no-fund --loglevel=error
log "generating schema.d.ts from openapi/openapi.json"
npx --no-install openapi-typescript "$ROOT/openapi/openapi.json" -o schema.d.ts
log "tsc --strict --noEmit"
npx --no-install tsc --strict --noEmit
npx --no-install tsc --noCheck # emit dist/main.js (checked just above)

source "$ROOT/tests/support/live-server.sh"
start_live_server
export SHOPVO_URL="$LIVE_URL" SHOPVO_SITE="$LIVE_SITE" SHOPVO_ADMIN_KEY="$LIVE_KEY"

log "running the storefront client"
node dist/main.js | tee "$LIVE_DIR/client.out"
grep -Eq '^order ORD-[0-9]+: ' "$LIVE_DIR/client.out" || die "the client printed no order number"
log "storefront client: order placed"
