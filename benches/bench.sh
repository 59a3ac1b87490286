#!/usr/bin/env bash
# Load-test the read path of the catalog against a pgbench select-only ceiling.
#
#   benches/bench.sh
#
# Builds the release binary, starts `shopvo serve` (with a private PostgreSQL in a temporary data folder,
# or against DATABASE_URL when set), seeds PRODUCTS products x 3 variants with plain SQL, and runs
# `wrk` (or `oha`) at CONNECTIONS connections for DURATION seconds per workload:
#
#   get     GET /api/v1/{site}/products/{id}      (wrk: a random id of the seeded products per request;
#                                                  oha: one id)
#   list    GET /api/v1/{site}/products?limit=20&expand[]=variants
#   search  GET /api/v1/{site}/products?search=linen   (matches 1 product in 5)
#
# then `pgbench -S` (select-only) at the same concurrency in a separate database, as the ceiling of what
# this PostgreSQL answers for trivial primary-key reads. Everything runs on this machine, so the load
# generator, the server and PostgreSQL share its cores.
#
# Knobs (environment): DURATION=15 CONNECTIONS=32 THREADS=2 PRODUCTS=10000 WARMUP=3
#   DATABASE_URL   use this database instead of a private cluster (a new site is created in it each run,
#                  and pgbench uses a database named shopvo_pgbench next to it, dropped at the end)
#   LOADGEN        wrk or oha (default: oha when installed, else wrk; `apt-get install -y wrk`)
#   RUST_LOG       passed to the server (default: the server's own default, info: one log line per request)
#   KEEP=1         keep the temporary folder (server and postgres logs) after the run
set -euo pipefail

DURATION=${DURATION:-15}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
PRODUCTS=${PRODUCTS:-10000}
WARMUP=${WARMUP:-3}
SEARCH_WORD=linen

cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if [[ -z "${LOADGEN:-}" ]]; then
    if command -v oha >/dev/null; then LOADGEN=oha; else LOADGEN=wrk; fi
fi
command -v "$LOADGEN" >/dev/null || die "$LOADGEN is not installed (apt-get install -y wrk, or cargo install oha --locked)"
for tool in curl psql pgbench; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

log "building the release binary"
cargo build --release --locked
BIN="${CARGO_TARGET_DIR:-target}/release/shopvo"
[[ -x "$BIN" ]] || die "no binary at $BIN"
BIN=$(realpath "$BIN")

BENCH_NAME=shopvo-bench
# shellcheck source=benches/common.sh
source benches/common.sh
start_server

# The CLI reaches the same database (the running cluster's socket, or DATABASE_URL) with the same secret.
SITE=$("$BIN" site create --name "Bench Store" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[[ -n "$SITE" ]] || die "could not create a site"
KEY=$("$BIN" key create --site "$SITE" --scopes 'admin:*' --name bench --json | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[[ -n "$KEY" ]] || die "could not create a key"
log "site $SITE"

log "seeding $PRODUCTS products x 3 variants"
seed_start=$(date +%s%N)
psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" -v n="$PRODUCTS" <<'SQL'
begin;
insert into products (site_id, id, slug, name, description, status, price, compare_at_price, featured, images)
select :'site',
       'prd_' || lpad(i::text, 26, '0'),
       'bench-product-' || i,
       (array['Cotton', 'Linen', 'Wool', 'Silk', 'Denim'])[1 + i % 5] || ' '
           || (array['Shirt', 'Hoodie', 'Trousers', 'Towel'])[1 + i % 4] || ' ' || i,
       'Benchmark product number ' || i || ', made for load tests.',
       'ACTIVE',
       1000 + (i * 37) % 9000,
       case when i % 3 = 0 then 12000 end,
       i % 50 = 0,
       '["https://images.example.com/bench.jpg"]'::jsonb
from generate_series(1, :n) as i;

insert into variants (site_id, id, product_id, name, sku, options, is_default, position, inventory_count)
select :'site',
       'var_' || lpad(((i - 1) * 3 + j)::text, 26, '0'),
       'prd_' || lpad(i::text, 26, '0'),
       (array['Small', 'Medium', 'Large'])[j],
       'BENCH-' || i || '-' || j,
       jsonb_build_array(jsonb_build_object('name', 'Size', 'value', (array['Small', 'Medium', 'Large'])[j])),
       j = 1,
       j - 1,
       (i * 7 + j) % 40
from generate_series(1, :n) as i, generate_series(1, 3) as j;

-- With the inventory schema, variants.inventory_count mirrors stock at the site's default location.
select to_regclass('stock_levels') is not null as has_stock \gset
\if :has_stock
insert into stock_levels (site_id, variant_id, location_id, on_hand)
select v.site_id, v.id, l.id, v.inventory_count
from variants v join locations l on l.site_id = v.site_id and l.is_default
where v.site_id = :'site';
\endif
commit;
analyze products;
analyze variants;
SQL
log "seeded in $((($(date +%s%N) - seed_start) / 1000000)) ms"

AUTH="Authorization: Bearer $KEY"
GET_PATH="/api/v1/$SITE/products/prd_$(printf '%026d' $((PRODUCTS / 2)))"
LIST_PATH="/api/v1/$SITE/products?limit=20&expand%5B%5D=variants"
SEARCH_PATH="/api/v1/$SITE/products?search=$SEARCH_WORD"

# Sanity: every workload answers 200 with what it should.
for path in "$GET_PATH" "$LIST_PATH" "$SEARCH_PATH"; do
    code=$(curl -s -o "$WORK/sample.json" -w '%{http_code}' -H "$AUTH" "$BASE$path")
    [[ "$code" == 200 ]] || { cat "$WORK/sample.json" >&2; die "GET $path answered $code"; }
done
total=$(sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$WORK/sample.json")
log "search '$SEARCH_WORD' matches ${total:-?} products"

# wrk scripts: report.lua prints exact percentiles; random.lua also picks a random seeded product per request
# (a static request is cheaper for wrk, so only the `get` workload uses it).
cat >"$WORK/report.lua" <<'LUA'
local counter = 0
function setup(thread)
    counter = counter + 1
    thread:set("tid", counter)
end

function init(args)
    site, products = args[1], tonumber(args[2])
    math.randomseed(os.time() * 100 + (tid or 0))
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format("RESULT %.1f %.3f %.3f %d %d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000,
        e.status, e.connect + e.read + e.write + e.timeout))
end
LUA
cp "$WORK/report.lua" "$WORK/random.lua"
cat >>"$WORK/random.lua" <<'LUA'

function request()
    local path = string.format("/api/v1/%s/products/prd_%026d", site, math.random(1, products))
    return wrk.format("GET", path)
end
LUA

RESULTS=()

# run NAME MODE PATH DURATION -> appends "name|rps|p50 ms|p99 ms|non-2xx|errors" to RESULTS
run() {
    local name=$1 mode=$2 path=$3 duration=$4 out rps p50 p99 non2xx errors
    if [[ "$LOADGEN" == wrk ]]; then
        local script="$WORK/report.lua"
        [[ "$mode" == get ]] && script="$WORK/random.lua"
        out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" --latency -H "$AUTH" \
            -s "$script" "$BASE$path" -- "$SITE" "$PRODUCTS")
        echo "$out" >>"$WORK/loadgen.log"
        local line
        line=$(grep '^RESULT ' <<<"$out") || die "no result from wrk: $out"
        read -r _ rps p50 p99 non2xx errors <<<"$line"
    else
        out=$(oha --no-tui -z "${duration}s" -c "$CONNECTIONS" -H "$AUTH" --output-format json "$BASE$path")
        echo "$out" >>"$WORK/loadgen.log"
        read -r rps p50 p99 non2xx errors < <(python3 -c '
import json, sys
d = json.load(sys.stdin)
codes = d.get("statusCodeDistribution", {})
non2xx = sum(v for k, v in codes.items() if not k.startswith("2"))
errors = sum(d.get("errorDistribution", {}).values())
p = d["latencyPercentiles"]
print("%.1f %.3f %.3f %d %d" % (d["summary"]["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000, non2xx, errors))
' <<<"$out")
    fi
    RESULTS+=("$name|$rps|$p50|$p99|$non2xx|$errors")
}

if [[ "$WARMUP" -gt 0 ]]; then
    log "warming up (${WARMUP} s)"
    run warmup get "$GET_PATH" "$WARMUP"
    RESULTS=()
fi

if [[ "$LOADGEN" == wrk ]]; then
    GET_LABEL="GET /products/{id} (random of $PRODUCTS)"
else
    GET_LABEL="GET /products/{id} (one id)"
fi
log "$GET_LABEL: $LOADGEN, $CONNECTIONS connections, ${DURATION} s"
run "$GET_LABEL" get "$GET_PATH" "$DURATION"
log "GET /products?limit=20&expand[]=variants"
run "GET /products?limit=20&expand[]=variants" list "$LIST_PATH" "$DURATION"
log "GET /products?search=$SEARCH_WORD"
run "GET /products?search=$SEARCH_WORD (${total:-?} matches)" search "$SEARCH_PATH" "$DURATION"

log "pgbench -i -s 10 (separate database $PGBENCH_DB)"
psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" \
    -c "drop database if exists $PGBENCH_DB" -c "create database $PGBENCH_DB" >/dev/null
pgbench -i -s 10 -q "$PGBENCH_CONN" >"$WORK/pgbench-init.log" 2>&1 || { cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
log "pgbench -S -c $CONNECTIONS -j $THREADS -T $DURATION"
pgbench -S -n -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" "$PGBENCH_CONN" >"$WORK/pgbench.log" 2>&1 \
    || { cat "$WORK/pgbench.log" >&2; die "pgbench failed"; }
PGBENCH_TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.log" | tail -1)
PGBENCH_LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.log")

echo
echo "shopvo $("$BIN" --version | awk '{print $2}'), $(nproc) cores, $LOADGEN -c $CONNECTIONS -t $THREADS, ${DURATION} s per run, $PRODUCTS products x 3 variants"
echo
printf '| %-48s | %10s | %9s | %9s | %s |\n' "workload" "req/s" "p50 ms" "p99 ms" "non-2xx / errors"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..50})" "------------" "-----------" "-----------" "------------------"
for row in "${RESULTS[@]}"; do
    IFS='|' read -r name rps p50 p99 non2xx errors <<<"$row"
    printf '| %-48s | %10.0f | %9.2f | %9.2f | %s |\n' "$name" "$rps" "$p50" "$p99" "$non2xx / $errors"
done
printf '| %-48s | %10.0f | %9s | %9s | %s |\n' "pgbench -S (TPS; latency avg ${PGBENCH_LAT:-?} ms)" "${PGBENCH_TPS:-0}" "-" "-" "-"
echo
IFS='|' read -r _ get_rps _ get_p99 _ <<<"${RESULTS[0]}"
awk -v g="$get_rps" -v t="${PGBENCH_TPS:-0}" -v p="$get_p99" 'BEGIN {
    ratio = (t > 0) ? g / t : 0
    printf "product GET / pgbench -S = %.2f (target >= 0.50: %s); product GET p99 %.2f ms (target < 20 ms: %s)\n",
        ratio, (ratio >= 0.5 ? "met" : "NOT met"), p, (p < 20 ? "met" : "NOT met")
}'
