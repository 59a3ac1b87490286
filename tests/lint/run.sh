#!/usr/bin/env bash
# The committed OpenAPI document under two linters, each with the ruleset committed at the repository root:
# Spectral (`.spectral.yaml`, spectral:oas) and Redocly CLI (`redocly.yaml`, recommended). Both are pinned in
# package.json / package-lock.json beside this script and installed here with `npm ci`. Fails on any error
# or warning from either. Needs node and npm only (no build, no server, no database).
#
#   bash tests/lint/run.sh [document]    # default: openapi/openapi.json
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
doc="${1:-$root/openapi/openapi.json}"
[[ -f $doc ]] || { echo "lint/run.sh: no document at $doc" >&2; exit 1; }

# Redocly CLI: no usage data and no update check (it would only wait on hosts CI cannot reach).
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
bin="$here/node_modules/.bin"
name="${doc#"$root"/}"

echo "lint/run.sh: spectral $("$bin/spectral" --version) ($root/.spectral.yaml) over $name"
"$bin/spectral" lint --ruleset "$root/.spectral.yaml" --fail-severity=warn "$doc"

# `redocly lint` exits non-zero on errors only and has no option that fails on warnings, so the totals of
# its JSON report decide; the problems are printed one a line when there are any.
echo "lint/run.sh: redocly $("$bin/redocly" --version 2>/dev/null) ($root/redocly.yaml) over $name"
report="$(mktemp)"
log="$(mktemp)"
trap 'rm -f "$report" "$log"' EXIT
rc=0
"$bin/redocly" lint --config "$root/redocly.yaml" --format=json "$doc" >"$report" 2>"$log" || rc=$?
status=0
node - "$report" "$rc" <<'EOF' || status=$?
const fs = require("fs");
const [file, rc] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(fs.readFileSync(file, "utf8"));
} catch (e) {
  console.error(`redocly printed no JSON report (exit ${rc})`);
  process.exit(2);
}
for (const p of report.problems) {
  const at = (p.location || []).map((l) => `${l.pointer} (line ${l.start?.line})`).join(", ");
  console.log(`  ${p.severity} ${p.ruleId} ${at}: ${p.message}`);
}
const { errors, warnings } = report.totals;
console.log(`redocly: ${errors} errors, ${warnings} warnings`);
process.exit(errors + warnings > 0 || rc !== "0" ? 1 : 0);
EOF
if [[ $status -eq 2 ]]; then
  echo "lint/run.sh: redocly failed; its log:" >&2
  grep -v '[║╔╚]' "$log" | sed '/^\s*$/d' >&2 || true
fi
[[ $status -eq 0 ]] || { echo "lint/run.sh: redocly found problems" >&2; exit 1; }
echo "lint/run.sh: both linters report 0 errors and 0 warnings"
