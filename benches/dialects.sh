#!/usr/bin/env bash
# The vendor dialects under load: Mulopim bulk syncs and export pages, Mofavo stock lookups.
#
#   benches/dialects.sh
#
# Builds the release binary, starts `shopvo serve` (private PostgreSQL, SHOPVO_RATE_LIMIT=off, RUST_LOG=warn),
# seeds PRODUCTS products x 3 variants (plain SQL) and two more locations (3 in all), issues Mulopim
# credentials and a Mofavo token through the CLI, then measures:
#
#   1. Mulopim `POST /inventory/bulk-sync` with 1,000 items (random SKUs, the 3 locations, stock and a price),
#      SYNCS calls one after another: p50 and p99 per call (target p50 <= 300 ms on 2 cores);
#   2. Mulopim `GET /inventory/export?per_page=500` (500 products = 4,500 rows at 3 locations), PAGES pages
#      one after another: p50 and p99;
#   3. Mofavo `POST /woocommerce/stock` with 100 refs, signed, at 32 connections for DURATION seconds (wrk).
#
# It checks afterwards that the ledger holds exactly the bulk syncs' changes (source `mulopim`).
# Knobs: PRODUCTS=10000 SYNCS=20 PAGES=10 DURATION=10 KEEP=1
set -euo pipefail

PRODUCTS=${PRODUCTS:-10000}
SYNCS=${SYNCS:-20}
PAGES=${PAGES:-10}
DURATION=${DURATION:-10}

cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in curl psql python3 wrk; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

log "building the release binary"
cargo build --release --locked
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release/shopvo")

BENCH_NAME=shopvo-dialects
export RUST_LOG=warn
# shellcheck source=benches/common.sh
source benches/common.sh
start_server

SITE=$("$BIN" site create --name "Dialect Bench" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[[ -n "$SITE" ]] || die "could not create a site"
log "site $SITE: seeding $PRODUCTS products x 3 variants"
psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" -v n="$PRODUCTS" <<'SQL'
begin;
insert into products (site_id, id, slug, name, status, price)
select :'site', 'prd_' || lpad(i::text, 26, '0'), 'bench-product-' || i, 'Bench product ' || i, 'ACTIVE',
       1000 + (i * 37) % 9000
from generate_series(1, :n) as i;
insert into variants (site_id, id, product_id, name, sku, options, is_default, position, inventory_count)
select :'site', 'var_' || lpad(((i - 1) * 3 + j)::text, 26, '0'), 'prd_' || lpad(i::text, 26, '0'),
       (array['Small', 'Medium', 'Large'])[j], 'BENCH-' || i || '-' || j,
       jsonb_build_array(jsonb_build_object('name', 'Size', 'value', (array['Small', 'Medium', 'Large'])[j])),
       j = 1, j - 1, 100
from generate_series(1, :n) as i, generate_series(1, 3) as j;
insert into stock_levels (site_id, variant_id, location_id, on_hand)
select v.site_id, v.id, l.id, 100 from variants v join locations l on l.site_id = v.site_id and l.is_default
where v.site_id = :'site';
insert into locations (site_id, id, slug, name)
values (:'site', 'loc_bench_north', 'north', 'North'), (:'site', 'loc_bench_south', 'south', 'South');
commit;
analyze products; analyze variants; analyze stock_levels; analyze locations;
SQL

MULOPIM_KEY=$("$BIN" mulopim credentials --site "$SITE" --json | sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p')
MOFAVO_JSON=$("$BIN" mofavo token create --site "$SITE" --json)
MOFAVO_TOKEN=$(sed -n 's/.*"token":"\([^"]*\)".*/\1/p' <<<"$MOFAVO_JSON")
MOFAVO_SECRET=$(sed -n 's/.*"signingSecret":"\([^"]*\)".*/\1/p' <<<"$MOFAVO_JSON")
[[ -n "$MULOPIM_KEY" && -n "$MOFAVO_TOKEN" && -n "$MOFAVO_SECRET" ]] || die "could not issue credentials"
MULOPIM="$BASE/wp-json/mulopimfwc/v1"

# p50 and p99 (ms) of the numbers (seconds) in a file.
percentiles() {
    python3 - "$1" <<'PY'
import sys
xs = sorted(float(l) * 1000 for l in open(sys.argv[1]) if l.strip())
pick = lambda p: xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))]
print(f"{pick(50):.1f} {pick(99):.1f}")
PY
}

log "Mulopim bulk sync: $SYNCS calls of 1,000 items"
: >"$WORK/sync_times"
for s in $(seq 1 "$SYNCS"); do
    python3 - "$PRODUCTS" "$s" >"$WORK/items.json" <<'PY'
import json, random, sys
n, seed = int(sys.argv[1]), int(sys.argv[2])
random.seed(seed)
locations = ["default", "north", "south"]
items = [{"sku": f"BENCH-{random.randint(1, n)}-{random.randint(1, 3)}", "location_slug": random.choice(locations),
          "stock": random.randint(0, 500), "regular_price": f"{random.randint(1, 99)}.{random.randint(0, 99):02d}"}
         for _ in range(1000)]
print(json.dumps({"items": items}))
PY
    out=$(curl -s -o "$WORK/sync.json" -w '%{http_code} %{time_total}' -X POST "$MULOPIM/inventory/bulk-sync" \
        -H "X-API-Key: $MULOPIM_KEY" -H 'Content-Type: application/json' --data-binary @"$WORK/items.json")
    [[ ${out%% *} == 200 ]] || { cat "$WORK/sync.json" >&2; die "bulk sync answered ${out%% *}"; }
    grep -q '"failed":0' "$WORK/sync.json" || { cat "$WORK/sync.json" >&2; die "bulk sync items failed"; }
    echo "${out#* }" >>"$WORK/sync_times"
done
read -r SYNC_P50 SYNC_P99 < <(percentiles "$WORK/sync_times")

log "Mulopim export: $PAGES pages of 500 products"
: >"$WORK/export_times"
for p in $(seq 1 "$PAGES"); do
    out=$(curl -s -o "$WORK/export.json" -w '%{http_code} %{time_total}' \
        "$MULOPIM/inventory/export?per_page=500&page=$p" -H "X-API-Key: $MULOPIM_KEY")
    [[ ${out%% *} == 200 ]] || die "export answered ${out%% *}"
    echo "${out#* }" >>"$WORK/export_times"
done
ROWS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["count"])' "$WORK/export.json")
read -r EXPORT_P50 EXPORT_P99 < <(percentiles "$WORK/export_times")

log "Mofavo stock: 100 refs, 32 connections, ${DURATION}s"
BODY=$(python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps({"refs": [f"BENCH-{i * 97 % n + 1}-{i % 3 + 1}" for i in range(100)]}, separators=(",", ":")))' "$PRODUCTS")
SIGNATURE=$(printf '%s' "$BODY" | python3 -c 'import base64,hashlib,hmac,sys; print(base64.b64encode(hmac.new(sys.argv[1].encode(), sys.stdin.buffer.read(), hashlib.sha256).digest()).decode())' "$MOFAVO_SECRET")
check=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$BASE/woocommerce/stock" -H "Authorization: Bearer $MOFAVO_TOKEN" \
    -H "x-mofavo-signature: $SIGNATURE" -H 'Content-Type: application/json' --data-binary "$BODY")
[[ "$check" == 200 ]] || die "Mofavo stock answered $check"
cat >"$WORK/mofavo.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$BODY]]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $MOFAVO_TOKEN"
wrk.headers["x-mofavo-signature"] = "$SIGNATURE"
LUA
wrk -t2 -c32 -d"${DURATION}s" --latency -s "$WORK/mofavo.lua" "$BASE/woocommerce/stock" >"$WORK/wrk.txt"
MOFAVO_RPS=$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.txt")
MOFAVO_P50=$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")
MOFAVO_P99=$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")
MOFAVO_ERRORS=$(awk '/Non-2xx/ {print $5}' "$WORK/wrk.txt")

LEDGER=$(psql "$APP_CONN" -qAt -c "select count(*) from inventory_ledger where site_id = '$SITE' and source = 'mulopim'")
[[ "$LEDGER" -gt 0 ]] || die "no mulopim ledger rows"

echo
echo "shopvo $("$BIN" --version | awk '{print $2}'), $(nproc) cores; $PRODUCTS products x 3 variants, 3 locations;" \
    "the clients, the server and PostgreSQL share the machine"
echo
printf '| %-62s | %10s | %10s | %s |\n' "workload" "p50" "p99" "note"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..64})" "------------" "------------" "------"
printf '| %-62s | %7s ms | %7s ms | %s |\n' "Mulopim bulk-sync, 1,000 items ($SYNCS calls)" "$SYNC_P50" "$SYNC_P99" \
    "$(awk -v p="$SYNC_P50" 'BEGIN { print (p <= 300 ? "target <= 300 ms met" : "target <= 300 ms NOT met") }')"
printf '| %-62s | %7s ms | %7s ms | %s |\n' "Mulopim export, 500 products ($ROWS rows) per page ($PAGES pages)" \
    "$EXPORT_P50" "$EXPORT_P99" "-"
printf '| %-62s | %10s | %10s | %s |\n' "Mofavo stock, 100 refs, 32 connections" "$MOFAVO_P50" "$MOFAVO_P99" \
    "$MOFAVO_RPS req/s, non-2xx ${MOFAVO_ERRORS:-0}"
echo
echo "ledger rows written by the bulk syncs: $LEDGER"
