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

log "cargo build --locked"
(cd "$ROOT" && cargo build --locked)
BIN="$ROOT/${CARGO_TARGET_DIR:-target}/debug/shopvo"
[[ -x "$BIN" ]] || die "no binary at $BIN"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/shopvo-storefront.XXXXXX")
# As root the private cluster runs as the `postgres` user, which must be able to traverse this folder.
chmod 755 "$WORK"
SERVER_PID=""
SERVER_LOG=""
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        # SIGTERM: graceful shutdown, which also stops the private cluster.
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $status != 0 && -n "$SERVER_LOG" && -f "$SERVER_LOG" ]]; then
        echo "--- last lines of $SERVER_LOG:" >&2
        tail -n 30 "$SERVER_LOG" >&2
    fi
    if [[ "${KEEP:-0}" == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Always the private cluster in $WORK, never a database from the caller's environment.
unset DATABASE_URL
export SHOPVO_DATA_DIR="$WORK/data"
export SHOPVO_SECRET_KEY=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')   # 40 hex characters
export SHOPVO_JOBS=off
export NO_COLOR=1
PORT=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
export SHOPVO_BIND="127.0.0.1:$PORT"
BASE="http://127.0.0.1:$PORT"

SERVER_LOG="$WORK/server.log"
log "starting shopvo serve on $BASE"
"$BIN" serve >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for i in $(seq 1 600); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz" || true) == 200 ]] && break
    kill -0 "$SERVER_PID" 2>/dev/null || die "the server exited"
    [[ $i == 600 ]] && die "the server was not ready within 60 s"
    sleep 0.1
done

log "seeding the demo site"
DEMO=$("$BIN" demo --json)
SHOPVO_SITE=$(jq -er .siteId <<<"$DEMO") || die "demo printed no siteId: $DEMO"
SHOPVO_ADMIN_KEY=$(jq -er .key <<<"$DEMO") || die "demo printed no key"
export SHOPVO_URL="$BASE" SHOPVO_SITE SHOPVO_ADMIN_KEY

log "running the storefront client"
node dist/main.js | tee "$WORK/client.out"
grep -Eq '^order ORD-[0-9]+: ' "$WORK/client.out" || die "the client printed no order number"
log "storefront client: order placed"
