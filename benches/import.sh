#!/usr/bin/env bash
# `shopvo import products` and `shopvo export products` at size: 100,000 CSV rows in, then the same file
# again (every product an update, every stock level changed), JSON lines out and back into a new site.
#
#   benches/import.sh                 # ROWS=100000 (CSV rows: ROWS/2 products x 2 variants)
#
# Builds the release binary, starts `shopvo serve` on a private PostgreSQL (only to own the cluster; the
# commands below connect to it as a second process would), writes the files with python3 and times:
#
#   1. import of a fresh CSV (ROWS rows: ROWS/2 products, 2 variants each with a SKU, an option and stock);
#   2. import of the same products again with new prices and stock (all updates, one ledger entry each);
#   3. export of the site as JSON lines;
#   4. import of that export into a new site (brands and categories by slug).
#
# Target: 1 and 2 each under 60 s on 2 cores. Every import must report no failed rows; the script checks
# the product and ledger counts afterwards. Knobs: ROWS=100000 KEEP=1
set -euo pipefail

ROWS=${ROWS:-100000}

cd "$(dirname "$0")/.."

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

for tool in curl psql python3; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done

log "building the release binary"
cargo build --release --locked
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release/shopvo")

BENCH_NAME=shopvo-import
export RUST_LOG=warn
# shellcheck source=benches/common.sh
source benches/common.sh
start_server
export DATABASE_URL="postgres:///shopvo?user=postgres&host=$SHOPVO_DATA_DIR/run"

new_site() {
    "$BIN" site create --name "$1" --json | sed -n 's/.*"id":"\([^"]*\)".*/\1/p'
}

# CSV rows for ROWS/2 products x 2 variants; $1 is a price offset and stock base (so a second file changes
# every product and every level).
write_csv() {
    python3 - "$ROWS" "$1" >"$2" <<'PY'
import csv, sys
rows, shift = int(sys.argv[1]), int(sys.argv[2])
w = csv.writer(sys.stdout, lineterminator="\n")
w.writerow(["handle", "name", "description", "price", "categories", "sku", "option1_name", "option1_value", "stock"])
for i in range(rows // 2):
    for j, size in enumerate(["Small", "Large"]):
        first = j == 0
        w.writerow([
            f"imp-{i}",
            f"Imported product {i}" if first else "",
            f"A product from the import benchmark, number {i}." if first else "",
            f"{(1000 + i * 37 % 9000 + shift) / 100:.2f}" if first else "",
            "bench-a|bench-b" if first else "",
            f"IMP-{i}-{j}", "Size", size, (i + j + shift) % 500,
        ])
PY
}

# Runs an import and prints "<seconds> <summary json>".
timed_import() {
    local start end summary
    start=$(date +%s.%N)
    summary=$("$BIN" import products --site "$1" --file "$2" --json 2>"$WORK/import.log") \
        || { cat "$WORK/import.log" >&2; echo "$summary" >&2; die "import of $2 failed"; }
    end=$(date +%s.%N)
    echo "$(python3 -c "print(f'{$end - $start:.1f}')") $summary"
}

SITE=$(new_site "Import Bench")
[[ -n "$SITE" ]] || die "could not create a site"
psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$SITE" <<'SQL'
insert into categories (site_id, id, name, slug) values
    (:'site', 'cat_bench_a', 'Bench A', 'bench-a'), (:'site', 'cat_bench_b', 'Bench B', 'bench-b');
SQL

log "writing $ROWS CSV rows"
write_csv 0 "$WORK/first.csv"
write_csv 7 "$WORK/second.csv"

log "1. importing $WORK/first.csv (creates)"
read -r first first_summary < <(timed_import "$SITE" "$WORK/first.csv")
log "2. importing $WORK/second.csv (updates)"
read -r second second_summary < <(timed_import "$SITE" "$WORK/second.csv")

log "3. exporting as JSON lines"
start=$(date +%s.%N)
"$BIN" export products --site "$SITE" --format jsonl --output "$WORK/export.jsonl" 2>/dev/null
end=$(date +%s.%N)
exported=$(python3 -c "print(f'{$end - $start:.1f}')")

OTHER=$(new_site "Import Bench Copy")
psql "$APP_CONN" -v ON_ERROR_STOP=1 -q -v site="$OTHER" <<'SQL'
insert into categories (site_id, id, name, slug) values
    (:'site', 'cat_copy_a', 'Bench A', 'bench-a'), (:'site', 'cat_copy_b', 'Bench B', 'bench-b');
SQL
log "4. importing the export into a new site"
read -r copied copied_summary < <(timed_import "$OTHER" "$WORK/export.jsonl")

products=$(psql "$APP_CONN" -qAt -c "select count(*) from products where site_id = '$SITE'")
copies=$(psql "$APP_CONN" -qAt -c "select count(*) from products where site_id = '$OTHER'")
ledger=$(psql "$APP_CONN" -qAt -c "select count(*) from inventory_ledger where site_id = '$SITE' and source = 'import'")
[[ "$products" == $((ROWS / 2)) && "$copies" == "$products" ]] \
    || die "expected $((ROWS / 2)) products in each site, found $products and $copies"

printf '\n| step | rows | seconds | summary |\n|---|---|---|---|\n'
printf '| 1. CSV import, new products | %s | %s | %s |\n' "$ROWS" "$first" "$first_summary"
printf '| 2. CSV import, every product updated | %s | %s | %s |\n' "$ROWS" "$second" "$second_summary"
printf '| 3. JSON-lines export | %s products | %s | |\n' "$products" "$exported"
printf '| 4. JSON-lines import into a new site | %s products | %s | %s |\n' "$products" "$copied" "$copied_summary"
printf '\nledger rows with source import in the first site: %s\n' "$ledger"
