#!/usr/bin/env bash
# Contract fuzzing: schemathesis against a live server, every operation, every check, a fixed seed. The
# document must state what the server enforces, so a failure of any check fails the run.
#
#   tests/contract/run.sh                        # what CI runs (bounded, a few minutes)
#   tests/contract/run.sh --max-examples 500     # a longer local run; extra arguments go to schemathesis
#
# Installs the pinned schemathesis into target/contract-venv, starts the server (tests/support/live-server.sh)
# with webhook targets on loopback allowed (the seeded subscription points at 127.0.0.1; the jobs are off, so
# nothing is delivered) and the rate limit off (the fuzzer is one fast client), seeds one resource of every
# kind (seed.py), and writes the schemathesis config with their ids pinned for the path parameters.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
source "$root/tests/support/live-server.sh"

target="${CARGO_TARGET_DIR:-target}"
[[ "$target" == /* ]] || target="$root/$target"
venv="$target/contract-venv"
if ! cmp -s "$here/requirements.txt" "$venv/requirements.txt" 2>/dev/null; then
    live_log "installing schemathesis into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cp "$here/requirements.txt" "$venv/requirements.txt"
fi

start_live_server SHOPVO_RATE_LIMIT=off SHOPVO_WEBHOOK_ALLOW_PRIVATE=on
pinned="$LIVE_DIR/pinned.toml"
linked="$LIVE_DIR/linked.toml"
cat "$here/schemathesis.toml" >"$pinned"
python3 "$here/seed.py" "$LIVE_URL" "$LIVE_SITE" "$LIVE_KEY" >>"$pinned"
# The stateful phase takes its ids from the document's links (each create to the operations on what it
# created), so only the site is pinned there: a pinned id would override the link's.
cat "$here/schemathesis.toml" >"$linked"
printf '[parameters]\nsiteId = "%s"\n' "$LIVE_SITE" >>"$linked"

cd "$LIVE_DIR"
st() {
    local config="$1"
    shift
    timeout 600 "$venv/bin/schemathesis" --config-file "$config" run "$LIVE_URL/openapi.json" \
        --header "Authorization: Bearer $LIVE_KEY" --checks all "$@"
}
live_log "schemathesis: examples, coverage and fuzzing, against real ids (site $LIVE_SITE)"
st "$pinned" --phases examples,coverage,fuzzing "$@"
live_log "schemathesis: stateful, following links"
st "$linked" --phases stateful "$@"
