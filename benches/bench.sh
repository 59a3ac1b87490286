#!/usr/bin/env bash
# Load-test the catalog's read path at several catalog sizes in one run, against a pgbench select-only ceiling.
#
#   benches/bench.sh                          # 10,000 and 1,000,000 products
#   SIZES="1000 10000" benches/bench.sh
#
# Builds the release binary, starts `shopvo serve` (read cache off, with a private PostgreSQL in a temporary
# data folder, or against DATABASE_URL when set), and for each size in SIZES seeds a new site with that many
# products x 3 variants in bulk SQL (in 20 categories; one product in 5 named "Linen ..."), then runs `wrk`
# (or `oha`) at CONNECTIONS connections for DURATION seconds per workload:
#
#   get       GET /products/{id}                       (wrk: a random seeded product per request; oha: one id)
#   list      GET /products?limit=20&expand[]=variants  (first offset page, with its total)
#   deep      GET /products?limit=20&cursor=<id 90% of the way in>
#   category  GET /products?limit=20&categoryId=<one of 20>
#   search    GET /products?search=linen               (a common word: 1 product in 5)
#   sku       GET /products?search=BENCH-<n/2>-         (a rare SKU prefix: 1 product)
#
# then `pgbench -S` (select-only) at the same concurrency in a separate database, as the ceiling of what
# this PostgreSQL answers for trivial primary-key reads at that moment (once per size, right after its
# workloads). Everything runs on this machine, so the load generator, the server and PostgreSQL share its cores.
#
# Knobs (environment): SIZES="10000 1000000" DURATION=10 CONNECTIONS=32 THREADS=2 WARMUP=3
#   DATABASE_URL   use this database instead of a private cluster (a new site is created in it per size,
#                  and pgbench uses a database named shopvo_pgbench next to it, dropped at the end)
#   LOADGEN        wrk or oha (default: oha when installed, else wrk; `apt-get install -y wrk`)
#   RUST_LOG       passed to the server (default: the server's own default, info: one log line per request)
#   KEEP=1         keep the temporary folder (server and postgres logs) after the run
#   PERF=1         record a CPU profile of the machine during each workload (perf record -a, no call graphs):
#                  $WORK/perf-<size>-<workload>.data, with a top-50 report (by process, library, function) beside it (implies KEEP=1)
set -euo pipefail

DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SIZES=${SIZES:-${PRODUCTS:-10000 1000000}}
WARMUP=${WARMUP:-3}

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
[[ "${PERF:-0}" == 1 ]] && KEEP=1
export SHOPVO_READ_CACHE=off
# shellcheck source=benches/common.sh
source benches/common.sh
start_server

# wrk scripts: report.lua prints exact percentiles and the slowest request; random.lua also picks a random
# seeded product per request (a static request is cheaper for wrk, so only the `get` workload uses it).
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
    io.write(string.format("RESULT %.1f %.3f %.3f %.3f %d %d\n",
        summary.requests / (summary.duration / 1e6),
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
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

# run SIZE NAME MODE PATH DURATION -> appends "size|name|rps|p50 ms|p99 ms|max ms|non-2xx|errors" to RESULTS
run() {
    local size=$1 name=$2 mode=$3 path=$4 duration=$5 out rps p50 p99 max non2xx errors perf_pid=""
    if [[ "${PERF:-0}" == 1 && "$name" != warmup ]]; then
        perf record -q -F 999 -a -o "$WORK/perf-$size-$mode.data" -- sleep "$duration" \
            >/dev/null 2>&1 &
        perf_pid=$!
    fi
    if [[ "$LOADGEN" == wrk ]]; then
        local script="$WORK/report.lua"
        [[ "$mode" == get ]] && script="$WORK/random.lua"
        out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${duration}s" --timeout 5s --latency -H "$AUTH" \
            -s "$script" "$BASE$path" -- "$SITE" "$size")
        echo "$out" >>"$WORK/loadgen.log"
        local line
        line=$(grep '^RESULT ' <<<"$out") || die "no result from wrk: $out"
        read -r _ rps p50 p99 max non2xx errors <<<"$line"
    else
        out=$(oha --no-tui -z "${duration}s" -c "$CONNECTIONS" -H "$AUTH" --output-format json "$BASE$path")
        echo "$out" >>"$WORK/loadgen.log"
        read -r rps p50 p99 max non2xx errors < <(python3 -c '
import json, sys
d = json.load(sys.stdin)
codes = d.get("statusCodeDistribution", {})
non2xx = sum(v for k, v in codes.items() if not k.startswith("2"))
errors = sum(d.get("errorDistribution", {}).values())
p = d["latencyPercentiles"]
print("%.1f %.3f %.3f %.3f %d %d" % (d["summary"]["requestsPerSec"], p["p50"] * 1000, p["p99"] * 1000,
      d["summary"]["slowest"] * 1000, non2xx, errors))
' <<<"$out")
    fi
    RESULTS+=("$size|$name|$rps|$p50|$p99|$max|$non2xx|$errors")
    if [[ -n "$perf_pid" ]]; then
        wait "$perf_pid" || true
        perf report -q -i "$WORK/perf-$size-$mode.data" --no-children --sort comm,dso,symbol 2>/dev/null \
            | head -50 >"$WORK/perf-$size-$mode.txt" || true
    fi
}

# seed SIZE: a new site with SIZE products x 3 variants, 20 categories and stock at the default location.
# Triggers are off while rows go in (session_replication_role), and the read documents and search words are
# then built in one statement each, as a restore would; the triggers keep them current from there on.
seed() {
    local size=$1 start
    SITE=$("$BIN" site create --name "Bench $size" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
    [[ -n "$SITE" ]] || die "could not create a site"
    KEY=$("$BIN" key create --site "$SITE" --scopes 'admin:*' --name bench --json | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
    [[ -n "$KEY" ]] || die "could not create a key"
    AUTH="Authorization: Bearer $KEY"
    log "site $SITE: seeding $size products x 3 variants"
    start=$(date +%s%N)
    psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" -v n="$size" <<'SQL'
begin;
set local session_replication_role = replica;
insert into categories (site_id, id, name, slug)
select :'site', 'cat_' || lpad(c::text, 26, '0'), 'Category ' || c, 'category-' || c
from generate_series(1, 20) as c;

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

-- With triggers off, the link's copy of the product's status is written here.
insert into product_categories (site_id, product_id, category_id, product_status)
select :'site', 'prd_' || lpad(i::text, 26, '0'), 'cat_' || lpad((1 + i % 20)::text, 26, '0'), 'ACTIVE'
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

-- variants.inventory_count mirrors stock at the site's default location.
insert into stock_levels (site_id, variant_id, location_id, on_hand)
select v.site_id, v.id, l.id, v.inventory_count
from variants v join locations l on l.site_id = v.site_id and l.is_default
where v.site_id = :'site';

insert into product_docs (site_id, product_id, doc)
select p.site_id, p.id, product_doc(p) from products p where p.site_id = :'site';

insert into product_words (site_id, word)
select distinct p.site_id, w.word
from products p, unnest(tsvector_to_array(p.name_search || p.description_search)) as w(word)
where p.site_id = :'site';
commit;
SQL
    log "seeded in $((($(date +%s%N) - start) / 1000000)) ms; vacuum analyze"
    start=$(date +%s%N)
    psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -c "vacuum analyze products" -c "vacuum analyze variants" \
        -c "vacuum analyze product_categories" -c "vacuum analyze product_docs" -c "vacuum analyze stock_levels"
    log "vacuumed in $((($(date +%s%N) - start) / 1000000)) ms"
}

log "pgbench -i -s 10 (separate database $PGBENCH_DB)"
psql "$APP_CONN" -qAt -v ON_ERROR_STOP=1 -c "set client_min_messages = warning" \
    -c "drop database if exists $PGBENCH_DB" -c "create database $PGBENCH_DB" >/dev/null
pgbench -i -s 10 -q "$PGBENCH_CONN" >"$WORK/pgbench-init.log" 2>&1 || { cat "$WORK/pgbench-init.log" >&2; die "pgbench -i failed"; }

# pgbench_ceiling SIZE: `pgbench -S` right after that size's workloads, so each size's rates are compared with
# what this machine's PostgreSQL answered at the same moment (a shared machine varies by a third between runs).
declare -A PGBENCH_TPS PGBENCH_LAT
pgbench_ceiling() {
    local size=$1 log="$WORK/pgbench-$1.log"
    log "$size products: pgbench -S -c $CONNECTIONS -j $THREADS -T $DURATION"
    pgbench -S -n -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" "$PGBENCH_CONN" >"$log" 2>&1 \
        || { cat "$log" >&2; die "pgbench failed"; }
    PGBENCH_TPS[$size]=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$log" | tail -1)
    PGBENCH_LAT[$size]=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$log")
}

for size in $SIZES; do
    seed "$size"
    API="/api/v1/$SITE"
    declare -A PATHS=(
        [get]="$API/products/prd_$(printf '%026d' $((size / 2)))"
        [list]="$API/products?limit=20&expand%5B%5D=variants"
        [deep]="$API/products?limit=20&cursor=prd_$(printf '%026d' $((size * 9 / 10)))"
        [category]="$API/products?limit=20&categoryId=cat_$(printf '%026d' 7)"
        [search]="$API/products?search=linen"
        [sku]="$API/products?search=BENCH-$((size / 2))-"
    )
    # Sanity: every workload answers 200.
    for w in get list deep category search sku; do
        code=$(curl -s -o "$WORK/sample-$w.json" -w '%{http_code}' -H "$AUTH" "$BASE${PATHS[$w]}")
        [[ "$code" == 200 ]] || { cat "$WORK/sample-$w.json" >&2; die "GET ${PATHS[$w]} answered $code"; }
    done
    total() { sed -n 's/.*"total":\([0-9]*\).*/\1/p' "$WORK/sample-$1.json"; }
    log "search 'linen': total $(total search); category: total $(total category); sku: total $(total sku)"

    if [[ "$WARMUP" -gt 0 ]]; then
        log "warming up (${WARMUP} s)"
        run "$size" warmup get "${PATHS[get]}" "$WARMUP"
        unset 'RESULTS[${#RESULTS[@]}-1]'
    fi
    for w in get list deep category search sku; do
        case $w in
            get) label="GET /products/{id} (random)" ;;
            list) label="GET /products?limit=20&expand[]=variants" ;;
            deep) label="GET /products?limit=20&cursor=<90%>" ;;
            category) label="GET /products?limit=20&categoryId=<1 of 20>" ;;
            search) label="GET /products?search=linen ($(total search) matches)" ;;
            sku) label="GET /products?search=BENCH-<n/2>- (SKU prefix)" ;;
        esac
        log "$size products: $label"
        run "$size" "$label" "$w" "${PATHS[$w]}" "$DURATION"
    done
    pgbench_ceiling "$size"
done

# EXPLAIN (ANALYZE, BUFFERS) of the statements behind the workloads, on the last (largest) site, as the
# server sends them (docs/performance.md keeps a copy).
if [[ "${EXPLAIN:-1}" == 1 ]]; then
    half=$(printf '%026d' $((size / 2)))
    psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" -v half="prd_$half" \
        -v deep="prd_$(printf '%026d' $((size * 9 / 10)))" -v cat="cat_$(printf '%026d' 7)" \
        -v sku="bench-$((size / 2))-%" -v rare="'$((size / 2))'" >"$WORK/explain.txt" <<'SQL'
\echo '-- get: the document and the variants'' stock'
explain (analyze, buffers, costs off) select d.doc, coalesce((select json_agg(json_build_array(v.id, v.inventory_count,
    v.backorders, v.inventory_status, v.low_stock_threshold, v.updated_at)) from variants v
    where v.site_id = d.site_id and v.product_id = d.product_id), '[]') as stock
from product_docs d where d.site_id = :'site' and d.product_id = :'half';
\echo '-- list: the first page''s documents, from a walk of its ids'
explain (analyze, buffers, costs off) select d.doc from product_docs d where d.site_id = :'site'
    and d.product_id = any(array(select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    order by p.id limit 20)) order by d.product_id;
\echo '-- list: the page''s stock (the server binds the page''s ids)'
explain (analyze, buffers, costs off) select v.product_id, v.id, v.inventory_count, v.backorders, v.inventory_status,
    v.low_stock_threshold, v.updated_at from variants v where v.site_id = :'site' and v.product_id = any(array(
    select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE' order by p.id limit 20));
\echo '-- list: its total, counted up to 1,001'
explain (analyze, buffers, costs off) select count(*) from (select 1 from products p where p.site_id = :'site'
    and p.status = 'ACTIVE' limit 1001) matches;
\echo '-- deep cursor page'
explain (analyze, buffers, costs off) select d.doc from product_docs d where d.site_id = :'site'
    and d.product_id = any(array(select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    and p.id > :'deep' order by p.id limit 21)) order by d.product_id;
\echo '-- category page, from the category''s listing index'
explain (analyze, buffers, costs off) select d.doc from product_docs d where d.site_id = :'site'
    and d.product_id = any(array(select pc.product_id from product_categories pc where pc.site_id = :'site'
    and pc.category_id = :'cat' and pc.product_status = 'ACTIVE' order by pc.product_id limit 20))
    order by d.product_id;
\echo '-- category total, counted up to 1,001'
explain (analyze, buffers, costs off) select count(*) from (select 1 from product_categories pc
    where pc.site_id = :'site' and pc.category_id = :'cat' and pc.product_status = 'ACTIVE' limit 1001) matches;
\echo '-- search linen: the words it begins (the last word of a search is a prefix)'
explain (analyze, buffers, costs off) select w.word from product_words w where w.site_id = :'site'
    and w.word >= 'linen' and w.word < 'linen' || U&'\+10FFFF' order by w.word limit 50;
\echo '-- search linen, the name tier: its matches, unordered, up to 1,001 (a common word: read until enough)'
explain (analyze, buffers, costs off) select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    and p.name_search @@ cast('(''linen'')' as tsquery) and not p.id = any(array(select v.product_id from variants v
    where v.site_id = :'site' and lower(v.sku) like 'linen%' order by lower(v.sku) limit 1000)) limit 1001;
\echo '-- search linen, the name tier: past 1,000 matches, the page is a walk in id order'
explain (analyze, buffers, costs off) select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    and p.name_search @@ cast('(''linen'')' as tsquery) and not p.id = any(array(select v.product_id from variants v
    where v.site_id = :'site' and lower(v.sku) like 'linen%' order by lower(v.sku) limit 1000)) order by p.id limit 20;
\echo '-- search linen, the description tier (no matches)'
explain (analyze, buffers, costs off) select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    and p.id = any(array(select d.id from products d where d.site_id = :'site'
    and d.description_search @@ cast('(''linen'')' as tsquery) limit 1000))
    and not p.name_search @@ cast('(''linen'')' as tsquery)
    and not p.id = any(array(select v.product_id from variants v where v.site_id = :'site'
    and lower(v.sku) like 'linen%' order by lower(v.sku) limit 1000)) limit 1001;
\echo '-- a rare word (one product): looked up in the name index'
explain (analyze, buffers, costs off) select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    and p.name_search @@ cast(:'rare' as tsquery) limit 1001;
\echo '-- search a rare SKU prefix, the SKU tier'
explain (analyze, buffers, costs off) select p.id from products p where p.site_id = :'site' and p.status = 'ACTIVE'
    and p.id = any(array(select v.product_id from variants v where v.site_id = :'site'
    and lower(v.sku) like :'sku' order by lower(v.sku) limit 1000)) limit 1001;
\echo '-- a typo, when nothing matched: the nearest of the site''s words (then the tiers search for it)'
explain (analyze, buffers, costs off) select w.word from product_words w where w.site_id = :'site'
    and w.word % 'linnen' order by w.word <-> 'linnen', w.word limit 1;
SQL
    log "EXPLAIN of the main statements at $size products: $WORK/explain.txt"
fi


echo
echo "shopvo $("$BIN" --version | awk '{print $2}'), $(nproc) cores, $LOADGEN -c $CONNECTIONS -t $THREADS, ${DURATION} s per run, read cache off"
echo
printf '| %9s | %-50s | %8s | %8s | %8s | %8s | %s |\n' "products" "workload" "req/s" "p50 ms" "p99 ms" "max ms" "non-2xx / errors"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "-----------" "$(printf -- '-%.0s' {1..52})" "----------" "----------" "----------" "----------" "------------------"
last=""
for row in "${RESULTS[@]}" "end|"; do
    IFS='|' read -r size name rps p50 p99 max non2xx errors <<<"$row"
    if [[ -n "$last" && "$size" != "$last" ]]; then
        printf '| %9s | %-50s | %8.0f | %8s | %8s | %8s | %s |\n' "$last" \
            "pgbench -S (TPS; latency avg ${PGBENCH_LAT[$last]:-?} ms)" "${PGBENCH_TPS[$last]:-0}" "-" "-" "-" "-"
    fi
    last=$size
    [[ "$size" == end ]] && break
    printf '| %9s | %-50s | %8.0f | %8.2f | %8.2f | %8.1f | %s |\n' "$size" "$name" "$rps" "$p50" "$p99" "$max" "$non2xx / $errors"
done
echo
# Targets (issue "A million products"): uncached, each size against the one before: list and search
# p50 at most 1.5x; product GET >= 0.4x and lists >= 0.1x pgbench -S; no request over 1 s; no errors.
ceilings=""
for size in "${!PGBENCH_TPS[@]}"; do ceilings+="$size=${PGBENCH_TPS[$size]} "; done
printf '%s\n' "${RESULTS[@]}" | awk -F'|' -v ceilings="$ceilings" '
    BEGIN { n = split(ceilings, pairs, " "); for (i = 1; i <= n; i++) { split(pairs[i], kv, "="); tps[kv[1]] = kv[2] } }
    { size[NR] = $1; name[NR] = $2; rps[NR] = $3; p50[NR] = $4; max[NR] = $6; bad[NR] = $7 + $8 }
    END {
        n = 6  # workloads per size
        for (i = 1; i <= NR; i++) {
            t = tps[size[i]]
            r = (t > 0) ? rps[i] / t : 0
            floor = (i % n == 1) ? 0.4 : 0.1  # the first workload of a size is the product GET
            printf "%9s  %-50s  %.3f x pgbench (target >= %.1f: %s)", size[i], name[i], r, floor, (r >= floor ? "met" : "NOT met")
            if (i > n) {
                q = (p50[i - n] > 0) ? p50[i] / p50[i - n] : 0
                printf "; p50 %.2f x the smaller catalog (target <= 1.5: %s)", q, (q <= 1.5 ? "met" : "NOT met")
            }
            printf "; slowest %.0f ms%s\n", max[i], (max[i] > 1000 || bad[i] > 0 ? " (NOT met)" : "")
        }
    }'
