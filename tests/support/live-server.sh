# Sourced by the proofs that drive a live server over HTTP (tests/browser, tests/contract,
# examples/storefront): builds the server, starts it on a free loopback port with a private data folder (and
# so its own private PostgreSQL), waits for /readyz, and seeds the demo site. On exit the server is stopped
# gracefully (which also stops the cluster) and the folder removed; on failure the server's last log lines
# are printed first. KEEP=1 keeps the folder.
#
#   source tests/support/live-server.sh
#   start_live_server [NAME=VALUE ...]   # extra environment for the server
#   # now: $LIVE_URL, $LIVE_SITE, $LIVE_KEY (an admin key of the demo site), $LIVE_BIN, $LIVE_DIR
#
# The server runs with its jobs off: the proofs invent webhook URLs, and nothing may try to reach them.
# Needs cargo, curl, jq, python3 and the PostgreSQL server binaries.

live_log() { printf '==> %s\n' "$*" >&2; }
live_die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

LIVE_PID=""
LIVE_DIR=""

live_cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n "$LIVE_PID" ]] && kill -0 "$LIVE_PID" 2>/dev/null; then
        kill -TERM "$LIVE_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$LIVE_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$LIVE_PID" 2>/dev/null || true
        wait "$LIVE_PID" 2>/dev/null || true
    fi
    if [[ $status != 0 && -f "$LIVE_DIR/server.log" ]]; then
        echo "--- last lines of the server's log:" >&2
        tail -n 30 "$LIVE_DIR/server.log" >&2 || true
    fi
    if [[ -n "$LIVE_DIR" ]]; then
        if [[ "${KEEP:-0}" == 1 ]]; then live_log "kept $LIVE_DIR"; else rm -rf "$LIVE_DIR"; fi
    fi
    exit "$status"
}

start_live_server() {
    local tool root port i demo
    for tool in cargo curl jq python3; do
        command -v "$tool" >/dev/null || live_die "$tool is not installed"
    done
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

    live_log "cargo build --locked"
    (cd "$root" && cargo build --locked)
    local target="${CARGO_TARGET_DIR:-target}"
    [[ "$target" == /* ]] || target="$root/$target"
    LIVE_BIN="$target/debug/shopvo"
    [[ -x "$LIVE_BIN" ]] || live_die "no binary at $LIVE_BIN"

    LIVE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/shopvo-live.XXXXXX")"
    trap live_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    # As root the private cluster runs as the `postgres` user, which must be able to enter the folder.
    chmod 0711 "$LIVE_DIR"

    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    LIVE_URL="http://127.0.0.1:$port"
    live_log "starting shopvo serve on $LIVE_URL"
    # Always the private cluster in $LIVE_DIR, never a database from the caller's environment. `demo`
    # below opens the same cluster, so these stay exported.
    unset DATABASE_URL
    export SHOPVO_DATA_DIR="$LIVE_DIR/data" SHOPVO_BIND="127.0.0.1:$port" SHOPVO_JOBS=off NO_COLOR=1
    SHOPVO_SECRET_KEY="$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')"   # 40 hex characters
    export SHOPVO_SECRET_KEY
    env "$@" "$LIVE_BIN" serve >"$LIVE_DIR/server.log" 2>&1 </dev/null &
    LIVE_PID=$!
    for i in $(seq 1 600); do
        [[ $(curl -s -o /dev/null -w '%{http_code}' "$LIVE_URL/readyz" || true) == 200 ]] && break
        kill -0 "$LIVE_PID" 2>/dev/null || live_die "the server exited before it was ready"
        [[ $i == 600 ]] && live_die "$LIVE_URL/readyz did not answer 200 within 60 s"
        sleep 0.1
    done

    live_log "seeding the demo site"
    demo="$("$LIVE_BIN" demo --json --url "$LIVE_URL" </dev/null)"
    LIVE_SITE="$(jq -er .siteId <<<"$demo")" || live_die "demo printed no siteId: $demo"
    LIVE_KEY="$(jq -er .key <<<"$demo")" || live_die "demo printed no key"
}
