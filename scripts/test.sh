#!/usr/bin/env bash
# The test command (README, `npm test`, .ci/run): installs what the tests need, type-checks, lints, then
# runs every test against real servers (InfluxDB, VictoriaMetrics, snmpsim, snmpd, Mosquitto, nats-server, PostgreSQL, the fleet simulator).
# Extra arguments go to vitest, e.g. `npm test -- test/unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

ensure_node_modules .
ensure_debs influxdb victoria-metrics snmpsim snmp snmpd mosquitto openssl libxml2-utils chromium poppler-utils fonts-dejavu-core fping nats-server postgresql

echo "== type-check (tsc) =="
npx tsc --noEmit -p tsconfig.json
npx tsc --noEmit -p web/console/tsconfig.json  # the console's browser code (DOM types)
echo "== lint (eslint) =="
npx eslint --max-warnings 0 .
echo "== format (prettier) =="
npx prettier --check . >/dev/null || { npx prettier --check . ; exit 1; }
echo "== tests (vitest) =="
mkdir -p var
status=0
npx vitest run --reporter=default --reporter=json --outputFile=var/vitest-report.json "$@" || status=$?
# vitest prints its own summary; CI systems also read this plain closing line.
node -e '
  const r = JSON.parse(require("fs").readFileSync("var/vitest-report.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' || true
exit "$status"
