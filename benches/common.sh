# Shared by bench.sh and checkout.sh (sourced, not run): a scratch folder, a free port, the server on a
# private PostgreSQL cluster (or DATABASE_URL), and cleanup on exit. Expects `log`, `die`, `BIN` and
# `BENCH_NAME`; sets WORK, BASE, SERVER_PID, APP_CONN, PGBENCH_CONN, PGBENCH_DB.

start_server() {
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")
    # As root the private cluster runs as the `postgres` user, which must be able to traverse this folder.
    chmod 755 "$WORK"
    SERVER_PID=""
    PGBENCH_DB=shopvo_pgbench

    cleanup() {
        local status=$?
        trap - EXIT INT TERM
        if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
            log "stopping the server"
            # SIGTERM: graceful shutdown; the server then stops its private cluster.
            kill -TERM "$SERVER_PID" 2>/dev/null || true
            for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$SERVER_PID" 2>/dev/null || true
            wait "$SERVER_PID" 2>/dev/null || true
        fi
        if [[ -n "${DATABASE_URL:-}" && -n "${PGBENCH_CONN:-}" ]]; then
            psql "$APP_CONN" -qAt -c "drop database if exists $PGBENCH_DB" >/dev/null 2>&1 || true
        fi
        if [[ "${KEEP:-0}" == 1 ]]; then
            log "kept $WORK"
        else
            rm -rf "$WORK"
        fi
        exit "$status"
    }
    trap cleanup EXIT
    trap 'exit 130' INT TERM

    free_port() {
        if command -v python3 >/dev/null; then
            python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
            return
        fi
        local port
        for _ in $(seq 1 100); do
            port=$((20000 + RANDOM % 20000))
            if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
        done
        die "no free port found"
    }

    export SHOPVO_SECRET_KEY="bench-secret-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    export SHOPVO_DATA_DIR="$WORK/data"
    export SHOPVO_RATE_LIMIT=off
    export NO_COLOR=1
    PORT=$(free_port)
    export SHOPVO_BIND="127.0.0.1:$PORT"
    BASE="http://127.0.0.1:$PORT"

    if [[ -n "${DATABASE_URL:-}" ]]; then
        log "using DATABASE_URL"
        APP_CONN="$DATABASE_URL"
        # Same server, another database: swap the path of the URL, keeping its query string.
        url_base="${DATABASE_URL%%\?*}"
        url_query=""
        [[ "$DATABASE_URL" == *\?* ]] && url_query="?${DATABASE_URL#*\?}"
        PGBENCH_CONN="${url_base%/*}/$PGBENCH_DB$url_query"
    else
        log "zero-setup: private PostgreSQL in $SHOPVO_DATA_DIR"
        APP_CONN="host=$SHOPVO_DATA_DIR/run user=postgres dbname=shopvo"
        PGBENCH_CONN="host=$SHOPVO_DATA_DIR/run user=postgres dbname=$PGBENCH_DB"
    fi

    log "starting shopvo serve on $BASE"
    "$BIN" serve >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    for i in $(seq 1 600); do
        curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited"; }
        [[ $i == 600 ]] && { cat "$WORK/server.log" >&2; die "the server did not become ready in 60 s"; }
        sleep 0.1
    done
}
