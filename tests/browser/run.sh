#!/usr/bin/env bash
# The docs in a real browser: builds the server, starts it on a free loopback port with a private data
# folder (and so its own private PostgreSQL), seeds the demo site, and runs docs.mjs in headless Chromium.
# The server is always stopped and its folder removed. Needs node/npm and jq; installs Debian's chromium
# with apt when /usr/bin/chromium is missing (as root).
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

(cd "$root" && cargo build --locked)
bin="$root/target/debug/shopvo"

data="$(mktemp -d)"
server=""
cleanup() {
  local rc=$?
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if [[ $rc -ne 0 && -f $data/server.log ]]; then
    echo "run.sh: failed ($rc); the server's last log lines:" >&2
    tail -n 30 "$data/server.log" >&2 || true
  fi
  rm -rf "$data"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# As root the private cluster runs as the `postgres` user, which must be able to enter the folder.
chmod 0711 "$data"

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
export SHOPVO_DATA_DIR="$data"
export SHOPVO_BIND="127.0.0.1:$port"
export SHOPVO_JOBS=off
SHOPVO_SECRET_KEY="$(node -e 'console.log(require("crypto").randomBytes(30).toString("base64url"))')"
export SHOPVO_SECRET_KEY
url="http://127.0.0.1:$port"

"$bin" serve >"$data/server.log" 2>&1 </dev/null &
server=$!
for i in $(seq 120); do
  if [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/readyz" || true) == 200 ]]; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then echo "run.sh: the server exited before it was ready" >&2; exit 1; fi
  if [[ $i -eq 120 ]]; then echo "run.sh: $url/readyz did not answer 200 within 60 s" >&2; exit 1; fi
  sleep 0.5
done

demo="$("$bin" demo --json --url "$url" </dev/null)"
SHOPVO_SITE="$(jq -er .siteId <<<"$demo")"
SHOPVO_KEY="$(jq -er .key <<<"$demo")"
export SHOPVO_URL="$url" SHOPVO_SITE SHOPVO_KEY
export SHOPVO_SCREENSHOT="$root/target/docs.png"

echo "run.sh: server at $url, site $SHOPVO_SITE; running docs.mjs in Chromium"
(cd "$here" && timeout 180 node docs.mjs)
