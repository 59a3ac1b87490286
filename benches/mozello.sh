#!/usr/bin/env bash
# The Mozello Store API dialect under load: batch updates by handle and by SKU, and a full walk of the list.
#
#   benches/mozello.sh
#
# Builds the release binary, starts `shopvo serve` (private PostgreSQL, SHOPVO_RATE_LIMIT=off, so the
# dialect's 5 requests a second per key do not apply; RUST_LOG=warn), seeds PRODUCTS products x 2 variants
# (plain SQL: handles `bench-<i>`, SKUs `MZB-<i>-<j>`, stock at the default location), issues a Mozello key
# through the CLI, then measures:
#
#   1. `POST /v1/store/products/batch-update/` with 1,000 products x 2 variants (half existing handles, half
#      new ones; title, price, variants with option_name1/option_value1, sku and stock), CALLS calls one
#      after another: p50 and p99 per call (target p50 <= 1 s on 2 cores);
#   2. `POST /v1/store/products/batch-update-by-sku/` with 1,000 existing SKUs (a price, a special price or
#      a stock each), CALLS calls one after another: p50 and p99 per call (target p50 <= 300 ms);
#   3. `GET /v1/store/products/?page_size=100`, following `next_page_uri` (relative to `/v1`) over every
#      product: pages, total time, p50 and p99 per page.
#
# Every call must answer 200 with no item result "error" (and, by SKU, every item "updated"); the walk must
# see every product once. It checks afterwards that the ledger holds stock rows with source `mozello` and
# prints the ledger rows by source (with how many moved nothing).
# Knobs: PRODUCTS=10000 CALLS=10 KEEP=1
set -euo pipefail

PRODUCTS=${PRODUCTS:-10000}
CALLS=${CALLS:-10}

cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in curl psql python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ "$PRODUCTS" -ge 1000 ]] || die "PRODUCTS must be at least 1000 (a by-SKU batch takes 1,000 distinct SKUs)"

log "building the release binary"
cargo build --release --locked
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release/shopvo")

BENCH_NAME=shopvo-mozello
export RUST_LOG=warn
# shellcheck source=benches/common.sh
source benches/common.sh
start_server

SITE=$("$BIN" site create --name "Mozello Bench" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[[ -n "$SITE" ]] || die "could not create a site"
log "site $SITE: seeding $PRODUCTS products x 2 variants"
psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" -v n="$PRODUCTS" <<'SQL'
begin;
insert into products (site_id, id, handle, slug, name, status, price)
select :'site', 'prd_' || lpad(i::text, 26, '0'), 'bench-' || i, 'bench-product-' || i, 'Bench product ' || i,
       'ACTIVE', 1000 + (i * 37) % 9000
from generate_series(1, :n) as i;
insert into variants (site_id, id, product_id, name, sku, options, is_default, position, inventory_count)
select :'site', 'var_' || lpad(((i - 1) * 2 + j)::text, 26, '0'), 'prd_' || lpad(i::text, 26, '0'),
       (array['Small', 'Large'])[j], 'MZB-' || i || '-' || j,
       jsonb_build_array(jsonb_build_object('name', 'Size', 'value', (array['Small', 'Large'])[j])),
       j = 1, j - 1, 100
from generate_series(1, :n) as i, generate_series(1, 2) as j;
insert into stock_levels (site_id, variant_id, location_id, on_hand)
select v.site_id, v.id, l.id, 100 from variants v join locations l on l.site_id = v.site_id and l.is_default
where v.site_id = :'site';
commit;
analyze products; analyze variants; analyze stock_levels; analyze locations;
SQL

MOZELLO_KEY=$("$BIN" mozello key create --site "$SITE" --json | sed -n 's/.*"apiKey":"\([^"]*\)".*/\1/p')
[[ -n "$MOZELLO_KEY" ]] || die "could not issue a Mozello key"
MOZELLO="$BASE/v1"

# p50 and p99 (ms) of the numbers (seconds) in a file.
percentiles() {
    python3 - "$1" <<'PY'
import sys
xs = sorted(float(l) * 1000 for l in open(sys.argv[1]) if l.strip())
pick = lambda p: xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))]
print(f"{pick(50):.1f} {pick(99):.1f}")
PY
}

# Checks a batch answer: `"error": false`, one result per item, none "error" (and, with a second argument,
# all of them that result).
check_batch() {
    python3 - "$1" "${2:-}" <<'PY'
import collections, json, sys
body = json.load(open(sys.argv[1]))
want = sys.argv[2]
results = [r.get("result") for r in body.get("products", [])]
counts = collections.Counter(results)
bad = [r for r in body.get("products", []) if r.get("result") == "error" or (want and r.get("result") != want)]
if body.get("error") is not False or len(results) != 1000 or bad:
    print(f"results {dict(counts)}; first refused: {bad[:3]}", file=sys.stderr)
    sys.exit(1)
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
PY
}

log "batch-update: $CALLS calls of 1,000 products x 2 variants (500 existing handles, 500 new)"
: >"$WORK/update_times"
for c in $(seq 1 "$CALLS"); do
    python3 - "$PRODUCTS" "$c" >"$WORK/update.json" <<'PY'
import json, random, sys
n, call = int(sys.argv[1]), int(sys.argv[2])
random.seed(call)
sizes = ["Small", "Large"]
def money():
    return round(random.randint(100, 9999) / 100, 2)
def item(handle, title, skus):
    return {"handle": handle, "title": title, "price": money(),
            "variants": [{"option_name1": "Size", "option_value1": size, "sku": sku, "stock": random.randint(0, 500)}
                         for size, sku in zip(sizes, skus)]}
items = [item(f"bench-{i}", f"Bench product {i} (call {call})", [f"MZB-{i}-{j}" for j in (1, 2)])
         for i in random.sample(range(1, n + 1), 500)]
items += [item(f"new-{call}-{k}", f"New product {call}-{k}", [f"MZN-{call}-{k}-{j}" for j in (1, 2)])
          for k in range(1, 501)]
random.shuffle(items)
print(json.dumps({"products": items}))
PY
    out=$(curl -s -o "$WORK/update_out.json" -w '%{http_code} %{time_total}' -X POST \
        "$MOZELLO/store/products/batch-update/" -H "Authorization: ApiKey $MOZELLO_KEY" \
        -H 'Content-Type: application/json' --data-binary @"$WORK/update.json")
    [[ ${out%% *} == 200 ]] || { head -c 2000 "$WORK/update_out.json" >&2; die "batch-update answered ${out%% *}"; }
    counts=$(check_batch "$WORK/update_out.json") || die "batch-update call $c: items refused"
    log "  call $c: ${out#* } s ($counts)"
    echo "${out#* }" >>"$WORK/update_times"
done
read -r UPDATE_P50 UPDATE_P99 < <(percentiles "$WORK/update_times")

log "batch-update-by-sku: $CALLS calls of 1,000 existing SKUs"
: >"$WORK/sku_times"
for c in $(seq 1 "$CALLS"); do
    python3 - "$PRODUCTS" "$c" >"$WORK/sku.json" <<'PY'
import json, random, sys
n, call = int(sys.argv[1]), int(sys.argv[2])
random.seed(1000 + call)
items = []
for k, x in enumerate(random.sample(range(2 * n), 1000)):
    item = {"sku": f"MZB-{x // 2 + 1}-{x % 2 + 1}"}
    kind = k % 3
    if kind == 0:
        item["price"] = round(random.randint(100, 9999) / 100, 2)
    elif kind == 1:
        item["special_price"] = round(random.randint(1, 99) / 100, 2)
    else:
        item["stock"] = random.randint(0, 500)
    items.append(item)
print(json.dumps({"products": items}))
PY
    out=$(curl -s -o "$WORK/sku_out.json" -w '%{http_code} %{time_total}' -X POST \
        "$MOZELLO/store/products/batch-update-by-sku/" -H "Authorization: ApiKey $MOZELLO_KEY" \
        -H 'Content-Type: application/json' --data-binary @"$WORK/sku.json")
    [[ ${out%% *} == 200 ]] || { head -c 2000 "$WORK/sku_out.json" >&2; die "batch-update-by-sku answered ${out%% *}"; }
    counts=$(check_batch "$WORK/sku_out.json" updated) || die "batch-update-by-sku call $c: items not updated"
    log "  call $c: ${out#* } s ($counts)"
    echo "${out#* }" >>"$WORK/sku_times"
done
read -r SKU_P50 SKU_P99 < <(percentiles "$WORK/sku_times")

TOTAL=$(psql "$APP_CONN" -qAt -c "select count(*) from products where site_id = '$SITE'")
log "list: walking $TOTAL products by next_page_uri, 100 a page"
python3 - "$MOZELLO" "$MOZELLO_KEY" "$WORK/page_times" >"$WORK/walk.txt" <<'PY'
import json, sys, time, urllib.error, urllib.request
base, key, times_path = sys.argv[1], sys.argv[2], sys.argv[3]
uri, handles, times = "/store/products/?page_size=100", [], []
start = time.perf_counter()
while uri:
    request = urllib.request.Request(base + uri, headers={"Authorization": f"ApiKey {key}"})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(request) as response:
            body = json.load(response)
    except urllib.error.HTTPError as e:
        sys.exit(f"GET {uri} answered {e.code}: {e.read()[:500]!r}")
    times.append(time.perf_counter() - t)
    if body.get("error") is not False:
        sys.exit(f"GET {uri}: {str(body)[:500]}")
    handles += [p["handle"] for p in body["products"]]
    uri = body["next_page_uri"]
total = time.perf_counter() - start
open(times_path, "w").write("".join(f"{x}\n" for x in times))
print(len(times), len(handles), len(set(handles)), f"{total:.2f}")
PY
read -r PAGES WALKED DISTINCT WALK_TOTAL <"$WORK/walk.txt"
[[ "$WALKED" == "$TOTAL" && "$DISTINCT" == "$TOTAL" ]] ||
    die "the walk saw $WALKED products ($DISTINCT distinct), the site has $TOTAL"
read -r PAGE_P50 PAGE_P99 < <(percentiles "$WORK/page_times")

LEDGER=$(psql "$APP_CONN" -qAt -c "select count(*) from inventory_ledger where site_id = '$SITE' and source = 'mozello'")
[[ "$LEDGER" -gt 0 ]] || die "no mozello ledger rows"
# Every source with its rows and how many of them moved nothing, e.g. `mozello 26680 (10000 of delta 0)`.
LEDGER_SOURCES=$(psql "$APP_CONN" -qAt -F ' ' -c "select source, count(*), count(*) filter (where delta = 0) \
    from inventory_ledger where site_id = '$SITE' group by source order by source" |
    awk '{ printf "%s%s %s (%s of delta 0)", (NR > 1 ? ", " : ""), $1, $2, $3 }')

target() { awk -v p="$1" -v t="$2" 'BEGIN { print (p <= t ? "target <= " t " ms met" : "target <= " t " ms NOT met") }'; }

echo
echo "shopvo $("$BIN" --version | awk '{print $2}'), $(nproc) cores; $PRODUCTS products x 2 variants seeded;" \
    "the clients, the server and PostgreSQL share the machine"
echo
printf '| %-66s | %10s | %10s | %s |\n' "workload" "p50" "p99" "note"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..68})" "------------" "------------" "------"
printf '| %-66s | %7s ms | %7s ms | %s |\n' "Mozello batch-update, 1,000 products x 2 variants ($CALLS calls)" \
    "$UPDATE_P50" "$UPDATE_P99" "$(target "$UPDATE_P50" 1000)"
printf '| %-66s | %7s ms | %7s ms | %s |\n' "Mozello batch-update-by-sku, 1,000 SKUs ($CALLS calls)" \
    "$SKU_P50" "$SKU_P99" "$(target "$SKU_P50" 300)"
printf '| %-66s | %7s ms | %7s ms | %s |\n' "Mozello products list, 100 a page by next_page_uri ($PAGES pages)" \
    "$PAGE_P50" "$PAGE_P99" "$TOTAL products in ${WALK_TOTAL} s"
echo
echo "ledger rows written with source mozello: $LEDGER; all rows by source: $LEDGER_SOURCES"
