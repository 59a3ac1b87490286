#!/usr/bin/env bash
# Checkout throughput (orders/s) with concurrent buyers, against pgbench's default TPC-B-like run as the ceiling.
#
#   benches/checkout.sh
#
# Builds the release binary and the `checkout` bench, starts `shopvo serve` (with a private PostgreSQL in a
# temporary data folder, or against DATABASE_URL when set) with SHOPVO_RATE_LIMIT=off and RUST_LOG=warn,
# creates a site and a test-mode admin key, seeds PRODUCTS products x 3 variants with STOCK units each at the
# site's default location (plain SQL), creates a shipping method and an LV tax rate through the API, and runs
# `cargo bench --bench checkout` (benches/checkout.rs):
#
#   phase 1  BUYERS workers prepare SESSIONS checkouts: cart, 1-3 random products, checkout started and moved
#            contact -> shipping (LV) -> payment (test) -> review   (reported as sessions/s)
#   phase 2  BUYERS workers fire `complete` for the prepared sessions    (the headline: orders/s)
#
# then `pgbench -i -s 10` into a separate database and the default TPC-B-like `pgbench -c 16 -j 2 -T 15` as the
# ceiling of what this PostgreSQL commits on this machine. Finally it checks in SQL that the site has exactly
# as many orders as `complete` succeeded and that stock (stock_levels, variants.inventory_count, the ledger)
# went down by exactly the units sold; a mismatch makes the script exit 1.
#
# Knobs (environment): BUYERS=16 SESSIONS=4000 PRODUCTS=10000 STOCK=1000000
#   PGBENCH_CLIENTS=16 PGBENCH_THREADS=2 PGBENCH_DURATION=15
#   DATABASE_URL   use this database instead of a private cluster (a new site is created in it each run,
#                  and pgbench uses a database named shopvo_pgbench next to it, dropped at the end)
#   SEED           the bench's random seed (cart contents)
#   PROMO=1        also create a 10 % promotion (code BENCH10) and apply it to every cart: all buyers then
#                  share one promotions row, whose used_count each order increments
#   BALANCES=1     every buyer is a customer paying GIFT_CARD (500) with a gift card of its own and
#                  STORE_CREDIT (500) with store credit, both issued during setup and spent by `complete`
#   KEEP=1         keep the temporary folder (server and postgres logs) after the run
set -euo pipefail

BUYERS=${BUYERS:-16}
SESSIONS=${SESSIONS:-4000}
PRODUCTS=${PRODUCTS:-10000}
STOCK=${STOCK:-1000000}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-16}
PGBENCH_THREADS=${PGBENCH_THREADS:-2}
PGBENCH_DURATION=${PGBENCH_DURATION:-15}
SHIPPING_CODE=bench

cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in curl psql pgbench; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

log "building the release binary and the checkout bench"
cargo build --release --locked
cargo bench --locked --bench checkout --no-run
BIN="${CARGO_TARGET_DIR:-target}/release/shopvo"
[[ -x "$BIN" ]] || die "no binary at $BIN"
BIN=$(realpath "$BIN")

BENCH_NAME=shopvo-checkout
export RUST_LOG=warn
# shellcheck source=benches/common.sh
source benches/common.sh
start_server

SITE=$("$BIN" site create --name "Checkout Bench" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[[ -n "$SITE" ]] || die "could not create a site"
KEY=$("$BIN" key create --site "$SITE" --scopes 'admin:*' --test --name checkout-bench --json \
    | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[[ "$KEY" == sk_test_* ]] || die "could not create a test-mode key"
log "site $SITE"

log "seeding $PRODUCTS products x 3 variants, $STOCK units each at the default location"
seed_start=$(date +%s%N)
psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" -v n="$PRODUCTS" -v stock="$STOCK" <<'SQL'
begin;
insert into products (site_id, id, slug, name, description, status, price, images)
select :'site',
       'prd_' || lpad(i::text, 26, '0'),
       'bench-product-' || i,
       (array['Cotton', 'Linen', 'Wool', 'Silk', 'Denim'])[1 + i % 5] || ' '
           || (array['Shirt', 'Hoodie', 'Trousers', 'Towel'])[1 + i % 4] || ' ' || i,
       'Benchmark product number ' || i || ', made for load tests.',
       'ACTIVE',
       1000 + (i * 37) % 9000,
       '["https://images.example.com/bench.jpg"]'::jsonb
from generate_series(1, :n) as i;

-- variants.inventory_count is the total over enabled stock at active locations: here, the one default row.
insert into variants (site_id, id, product_id, name, sku, options, is_default, position, inventory_count)
select :'site',
       'var_' || lpad(((i - 1) * 3 + j)::text, 26, '0'),
       'prd_' || lpad(i::text, 26, '0'),
       (array['Small', 'Medium', 'Large'])[j],
       'BENCH-' || i || '-' || j,
       jsonb_build_array(jsonb_build_object('name', 'Size', 'value', (array['Small', 'Medium', 'Large'])[j])),
       j = 1,
       j - 1,
       :stock
from generate_series(1, :n) as i, generate_series(1, 3) as j;

insert into stock_levels (site_id, variant_id, location_id, on_hand)
select v.site_id, v.id, l.id, v.inventory_count
from variants v join locations l on l.site_id = v.site_id and l.is_default
where v.site_id = :'site';
commit;
analyze products;
analyze variants;
analyze stock_levels;
SQL
log "seeded in $((($(date +%s%N) - seed_start) / 1000000)) ms"

psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 \
    -c "select id from products where site_id = '$SITE' and status = 'ACTIVE' order by id" >"$WORK/product_ids.txt"
[[ $(wc -l <"$WORK/product_ids.txt") -eq "$PRODUCTS" ]] || die "expected $PRODUCTS product ids"

AUTH="Authorization: Bearer $KEY"
API="$BASE/api/v1/$SITE"
post() {
    local path=$1 body=$2 code
    code=$(curl -s -o "$WORK/response.json" -w '%{http_code}' -X POST "$API$path" -H "$AUTH" \
        -H 'Content-Type: application/json' -d "$body")
    [[ "$code" == 201 || "$code" == 200 ]] || { cat "$WORK/response.json" >&2; die "POST $path answered $code"; }
}
log "shipping method '$SHIPPING_CODE' (LV) and a 21 % LV tax rate"
post /shipping-methods "{\"name\":\"Bench standard\",\"code\":\"$SHIPPING_CODE\",\"price\":499,\"freeAbove\":10000,\"countries\":[\"LV\"]}"
post /tax-rates '{"country":"LV","percentage":21}'
PROMO_CODE=""
if [[ "${PROMO:-0}" == 1 ]]; then
    PROMO_CODE=BENCH10
    log "promotion $PROMO_CODE (10 %) on every cart"
    post /promotions "{\"code\":\"$PROMO_CODE\",\"type\":\"PERCENTAGE\",\"value\":10}"
fi

# stock totals before: stock_levels.on_hand | variants.inventory_count
STOCK_SQL="select (select coalesce(sum(on_hand), 0) from stock_levels where site_id = '$SITE') || '|' ||
                  (select coalesce(sum(inventory_count), 0) from variants where site_id = '$SITE')"
before=$(psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "$STOCK_SQL")
IFS='|' read -r on_hand_before count_before <<<"$before"

heavy=$(pgrep -f "cargo test|rustc" || true)
[[ -z "$heavy" ]] || log "warning: other heavy jobs are running (pids $(echo $heavy)); figures will be noisy"

log "cargo bench --bench checkout: $BUYERS buyers, $SESSIONS sessions"
BASE_URL="$BASE" SITE_ID="$SITE" API_KEY="$KEY" PRODUCT_IDS_FILE="$WORK/product_ids.txt" \
    BUYERS="$BUYERS" SESSIONS="$SESSIONS" SHIPPING_METHOD="$SHIPPING_CODE" PROMO_CODE="$PROMO_CODE" \
    BALANCES="${BALANCES:-0}" GIFT_CARD="${GIFT_CARD:-500}" STORE_CREDIT="${STORE_CREDIT:-500}" \
    cargo bench --locked --bench checkout 2>"$WORK/cargo-bench.log" | tee "$WORK/checkout.log" \
    || { cat "$WORK/cargo-bench.log" >&2; die "the checkout bench failed"; }
RESULT=$(grep '^RESULT ' "$WORK/checkout.log" | tail -1) || die "no RESULT line from the bench"
declare -A R
for kv in ${RESULT#RESULT }; do R[${kv%%=*}]=${kv#*=}; done

log "pgbench -i -s 10 (separate database $PGBENCH_DB)"
psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" \
    -c "drop database if exists $PGBENCH_DB" -c "create database $PGBENCH_DB" >/dev/null
pgbench -i -s 10 -q "$PGBENCH_CONN" >"$WORK/pgbench-init.log" 2>&1 \
    || { cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }
log "pgbench (TPC-B-like) -c $PGBENCH_CLIENTS -j $PGBENCH_THREADS -T $PGBENCH_DURATION"
pgbench -c "$PGBENCH_CLIENTS" -j "$PGBENCH_THREADS" -T "$PGBENCH_DURATION" "$PGBENCH_CONN" >"$WORK/pgbench.log" 2>&1 \
    || { cat "$WORK/pgbench.log" >&2; die "pgbench failed"; }
PGBENCH_TPS=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$WORK/pgbench.log" | tail -1)
PGBENCH_LAT=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.log")

log "consistency check"
CHECK_SQL="select
  (select count(*) from orders where site_id = '$SITE') || '|' ||
  (select coalesce(sum(quantity), 0) from order_items where site_id = '$SITE') || '|' ||
  (select coalesce(sum(on_hand), 0) from stock_levels where site_id = '$SITE') || '|' ||
  (select coalesce(sum(inventory_count), 0) from variants where site_id = '$SITE') || '|' ||
  (select coalesce(-sum(delta), 0) from inventory_ledger where site_id = '$SITE' and source = 'order') || '|' ||
  (select count(*) from stock_levels where site_id = '$SITE' and on_hand < 0)"
after=$(psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "$CHECK_SQL")
IFS='|' read -r orders_db items_db on_hand_after count_after ledger_db negative <<<"$after"
sold=${R[units]}
checks=(
    "orders in the database = successful completes|$orders_db|${R[orders]}"
    "units in order_items = units the bench bought|$items_db|$sold"
    "stock_levels.on_hand went down by the units sold|$((on_hand_before - on_hand_after))|$sold"
    "variants.inventory_count went down by the units sold|$((count_before - count_after))|$sold"
    "inventory_ledger order deltas = units sold|$ledger_db|$sold"
    "stock rows below zero|$negative|0"
)
if [[ -n "$PROMO_CODE" ]]; then
    promo=$(psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "select
      (select used_count from promotions where site_id = '$SITE' and code = '$PROMO_CODE') || '|' ||
      (select count(*) from promotion_redemptions where site_id = '$SITE') || '|' ||
      (select count(*) from orders where site_id = '$SITE' and promotion_code = '$PROMO_CODE')")
    IFS='|' read -r promo_used promo_redemptions promo_orders <<<"$promo"
    checks+=(
        "promotion used_count = successful completes|$promo_used|${R[orders]}"
        "promotion redemptions = successful completes|$promo_redemptions|${R[orders]}"
        "orders with the promotion = successful completes|$promo_orders|${R[orders]}"
    )
fi
if [[ "${BALANCES:-0}" == 1 ]]; then
    balances=$(psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "select
      (select count(*) from gift_card_transactions where site_id = '$SITE' and kind = 'REDEEM' and order_id is not null) || '|' ||
      (select count(*) from store_credit_transactions where site_id = '$SITE' and type = 'DEBIT' and order_id is not null) || '|' ||
      (select count(*) from orders where site_id = '$SITE' and gift_card_amount = ${GIFT_CARD:-500}
          and store_credit_amount = ${STORE_CREDIT:-500}) || '|' ||
      (select count(*) from gift_cards where site_id = '$SITE' and balance <> initial_balance - ${GIFT_CARD:-500}
          and exists (select 1 from gift_card_transactions t where t.site_id = gift_cards.site_id
                      and t.gift_card_id = gift_cards.id and t.kind = 'REDEEM'))")
    IFS='|' read -r card_spends credit_spends paid_orders wrong_cards <<<"$balances"
    checks+=(
        "gift card redemptions = successful completes|$card_spends|${R[orders]}"
        "store credit debits = successful completes|$credit_spends|${R[orders]}"
        "orders paid with both balances = successful completes|$paid_orders|${R[orders]}"
        "spent cards with a wrong balance|$wrong_cards|0"
    )
fi
mismatches=0

echo
MODE=""
[[ "${BALANCES:-0}" == 1 ]] && MODE=", every order paying ${GIFT_CARD:-500} by gift card and ${STORE_CREDIT:-500} by store credit"
echo "shopvo $("$BIN" --version | awk '{print $2}'), $(nproc) cores; $BUYERS buyers, $SESSIONS sessions, $PRODUCTS products x 3 variants${PROMO_CODE:+, promotion $PROMO_CODE on every cart}$MODE;" \
    "the bench, the server and PostgreSQL share the machine"
echo
printf '| %-58s | %12s | %9s | %9s | %s |\n' "workload" "rate" "p50 ms" "p99 ms" "errors"
printf '|%s|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..60})" "--------------" "-----------" "-----------" "--------"
printf '| %-58s | %8.1f o/s | %9.2f | %9.2f | %s |\n' "checkout complete ($BUYERS buyers, ${R[orders]} orders)" \
    "${R[orders_per_s]}" "${R[p50_ms]}" "${R[p99_ms]}" "${R[errors]}"
printf '| %-58s | %8.1f s/s | %9s | %9s | %s |\n' \
    "cart -> review ($(printf '%.1f' "${R[requests_per_session]}") requests/session, ${R[prepare_rps]%.*} req/s)" \
    "${R[sessions_per_s]}" "-" "-" "${R[prepare_errors]}"
printf '| %-58s | %8.0f TPS | %9s | %9s | %s |\n' \
    "pgbench TPC-B-like -c $PGBENCH_CLIENTS -j $PGBENCH_THREADS (avg ${PGBENCH_LAT:-?} ms)" "${PGBENCH_TPS:-0}" "-" "-" "-"
echo
awk -v o="${R[orders_per_s]}" -v t="${PGBENCH_TPS:-0}" 'BEGIN {
    printf "orders/s / pgbench TPS = %.3f; target >= 300 orders/s: %s\n", (t > 0 ? o / t : 0), (o >= 300 ? "met" : "NOT met")
}'
echo
for c in "${checks[@]}"; do
    IFS='|' read -r what got want <<<"$c"
    if [[ "$got" == "$want" ]]; then
        printf 'OK        %-55s %s\n' "$what" "$got"
    else
        printf 'MISMATCH  %-55s %s, expected %s\n' "$what" "$got" "$want"
        mismatches=$((mismatches + 1))
    fi
done
[[ $mismatches == 0 ]] || die "$mismatches consistency check(s) failed"
