#!/usr/bin/env bash
# The monitor on its embedded default, on one machine, loopback only:
#   InfluxDB (Debian's influxd, data in var/influxdb) + the fleet simulator answering SNMP for the 987
#   Badung sites + the collector polling them, alerting to the log (and any webhook you configure).
# Safe to run twice: a running instance is reported, not started again. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

CONFIG=${NETMON_CONFIG:-config/netmon.example.yaml}
INVENTORY=var/badung.inventory.yaml
SIM_CONTROL=${NETMON_SIM_CONTROL:-127.0.0.1:8161}
mkdir -p var

if [ -f var/netmon.pid ] && kill -0 "$(cat var/netmon.pid)" 2>/dev/null; then
  echo "badung-netmon is already running (pid $(cat var/netmon.pid)); stop it with Ctrl-C in its terminal or: kill $(cat var/netmon.pid)"
  exit 0
fi

ensure_node_modules .
ensure_debs influxdb

if [ ! -f "$INVENTORY" ]; then
  echo "Generating the Badung inventory (987 sites) into $INVENTORY"
  npx tsx scripts/generate-inventory.ts --out "$INVENTORY"
fi

if [ -z "${NETMON_CONFIG:-}" ] && [ ! -s var/demo-token ]; then
  # The API takes tokens only; the demo gets an operator token (the config reads var/api-tokens.yaml).
  echo "Making a demo API token (operator): var/demo-token, its hash in var/api-tokens.yaml"
  npx tsx scripts/make-token.ts --name "demo-operator-$(date +%s)" --role operator \
    --out var/api-tokens.yaml --token-file var/demo-token > /dev/null
fi
if [ -z "${NETMON_CONFIG:-}" ] && { [ ! -s var/demo-password ] || ! grep -qs '{ name: demo,' var/users.yaml; }; then
  # The console's demo sign-in: operator `demo`, its password in var/demo-password (yours only).
  echo "Making the demo console account: demo (operator), its password in var/demo-password"
  [ -s var/demo-password ] ||
    (umask 077 && node -e "process.stdout.write(require('node:crypto').randomBytes(15).toString('base64url'))" > var/demo-password)
  npx tsx scripts/make-user.ts --name demo --role operator --file var/users.yaml \
    --password-file var/demo-password --replace > /dev/null
fi
CONSOLE_SIGNIN="sign in with an account from scripts/make-user.ts"
[ -s var/demo-password ] && CONSOLE_SIGNIN="sign in as demo / $(cat var/demo-password)"

bash scripts/influxdb.sh start

SIM_PID=""
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  bash scripts/influxdb.sh stop || true
  rm -f var/netmon.pid
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo $$ > var/netmon.pid

echo "Starting the fleet simulator (log: var/simulator.log)"
node --import tsx simulator/main.ts --inventory "$INVENTORY" --control "$SIM_CONTROL" --mqtt "mqtt://127.0.0.1:${NETMON_MQTT_PORT:-1883}" > var/simulator.log 2>&1 &
SIM_PID=$!
for _ in $(seq 1 120); do
  grep -q 'simulator ready' var/simulator.log 2>/dev/null && break
  kill -0 "$SIM_PID" 2>/dev/null || { echo "the simulator failed to start:"; tail -20 var/simulator.log; exit 1; }
  sleep 0.5
done

cat <<MSG

badung-netmon is starting. Where to look:
  Console         http://127.0.0.1:${NETMON_HTTP_PORT:-8080}/  $CONSOLE_SIGNIN
  InfluxDB        http://127.0.0.1:8086   database 'netmon'   e.g.
                  curl -sG http://127.0.0.1:8086/query --data-urlencode db=netmon \\
                    --data-urlencode "q=SELECT count(reachable) FROM device WHERE time > now() - 5m GROUP BY kecamatan"
  Monitor API     http://127.0.0.1:8080/health (no token); the rest takes the demo token:
                  export NETMON_TOKEN=\$(cat var/demo-token)
                  curl -s -H "Authorization: Bearer \$NETMON_TOKEN" http://127.0.0.1:8080/api/v1/incidents
                  curl -s -H "Authorization: Bearer \$NETMON_TOKEN" http://127.0.0.1:8080/api/v1/health
  Feeds (BPBD)    http://127.0.0.1:8080/feeds/outages.geojson   http://127.0.0.1:8080/feeds/cap.atom (same token)
  Simulator       http://$SIM_CONTROL/status   cut a site:  curl -X POST http://$SIM_CONTROL/sites/<site-id>/cut
  Logs            this terminal (JSON lines; alerts are level "warn", msg "ALERT")
Every site is polled within the first minute; rates appear from the second poll on.

MSG
node --import tsx collector/main.ts --config "$CONFIG"
