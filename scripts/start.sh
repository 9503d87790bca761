#!/usr/bin/env bash
# The monitor on its embedded default, on one machine, loopback only:
#   InfluxDB (Debian's influxd, data in var/influxdb) + the fleet simulator answering SNMP for the 987
#   Badung sites + the collector polling them, alerting to the log (and any webhook you configure).
# Safe to run twice: a running instance is reported, not started again.
#
# Order, so that nothing is started for a config that cannot run, and nothing the monitor sees while it
# stops looks like an outage:
#   start: check the config (collector/main.ts --check) -> InfluxDB -> simulator -> collector
#   stop (Ctrl-C, or `kill <pid in var/netmon.pid>`): collector (drains polls, flushes) -> simulator -> InfluxDB
# The simulator and InfluxDB run in sessions of their own (setsid), so the SIGINT a terminal sends to its
# foreground process group on Ctrl-C reaches only this script and the collector; this script stops the
# others once the collector has stopped.
#
# Environment (all optional): NETMON_CONFIG (default config/netmon.example.yaml), NETMON_INVENTORY (the
# inventory, instead of the one the config names), NETMON_HTTP_PORT, NETMON_INFLUX_PORT, NETMON_MQTT_PORT,
# NETMON_TRAP_PORT (the example config's trap receiver, default 10162), NETMON_SIM_CONTROL (host:port of
# the simulator's control API), NETMON_VAR_DIR (this script's pid file, logs and InfluxDB's data; default
# var), NETMON_STOP_TIMEOUT (seconds the collector gets to stop, default 30: its writer alone may
# take 10 s to flush before it keeps the rest on disk).
#
# Ping and traps (the example config has both): fping needs raw ICMP sockets; this script checks that it
# can ping and says how to fix it when it cannot (the monitor then runs on SNMP alone). The simulator gets
# the trap receiver's address (--trap-to) and, as root, blackholes what a cut silences, so a cut stops
# ping too; not as root, a cut stops SNMP only (README: Ping and traps).
set -euo pipefail
# Paths given in the environment are relative to where the command was run, not to config/.
for v in NETMON_CONFIG NETMON_INVENTORY NETMON_VAR_DIR; do
  if [ -n "${!v:-}" ]; then
    printf -v "$v" '%s' "$(realpath -m -- "${!v}")"
    export "${v?}"
  fi
done
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

VAR=${NETMON_VAR_DIR:-var}
export NETMON_VAR_DIR=$VAR
CONFIG=${NETMON_CONFIG:-config/netmon.example.yaml}
SIM_CONTROL=${NETMON_SIM_CONTROL:-127.0.0.1:8161}
STOP_TIMEOUT=${NETMON_STOP_TIMEOUT:-30}
# The example config reads these; a config of your own may too.
export NETMON_INFLUX_PORT=${NETMON_INFLUX_PORT:-8086}
export NETMON_INFLUX_URL=${NETMON_INFLUX_URL:-http://127.0.0.1:$NETMON_INFLUX_PORT}
export NETMON_MQTT_PORT=${NETMON_MQTT_PORT:-1883}
export NETMON_HTTP_PORT=${NETMON_HTTP_PORT:-8080}
export NETMON_TRAP_PORT=${NETMON_TRAP_PORT:-10162}
PIDFILE=$VAR/netmon.pid
SIM_PIDFILE=$VAR/simulator.pid
SIM_LOG=$VAR/simulator.log
mkdir -p "$VAR"

# Ours: the pid is alive and runs the given script (not a pid reused after a reboot).
alive_as() {
  local pid=$1 what=$2
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$what"
}

if [ -f "$PIDFILE" ] && alive_as "$(cat "$PIDFILE")" 'scripts/start.sh'; then
  pid=$(cat "$PIDFILE")
  echo "badung-netmon is already running (pid $pid); stop it with Ctrl-C in its terminal or: kill $pid"
  exit 0
fi
# A simulator left by a start that was killed with -9 holds the control port: stop it.
if [ -f "$SIM_PIDFILE" ] && alive_as "$(cat "$SIM_PIDFILE")" 'simulator/main.ts'; then
  echo "stopping the simulator a previous start left running (pid $(cat "$SIM_PIDFILE"))"
  kill -TERM -- "-$(cat "$SIM_PIDFILE")" 2>/dev/null || true
fi

ensure_node_modules .
ensure_debs influxdb curl fping

# fping needs raw ICMP sockets (Debian's /usr/bin/fping has cap_net_raw=ep) or unprivileged ICMP sockets
# for this user's group (net.ipv4.ping_group_range). Exit 3 or 4 is "cannot": say so, and how to fix it.
FPING_NOTE="fping works"
fping_rc=0
fping -c 1 -t 500 -q 127.0.0.1 >/dev/null 2>&1 || fping_rc=$?
if [ "$fping_rc" -ge 3 ]; then
  FPING_NOTE="fping cannot ping (exit $fping_rc): the monitor sees by SNMP alone"
  cat >&2 <<EOF
badung-netmon: fping cannot open an ICMP socket (exit $fping_rc), so the monitor's ping rounds will fail
  (each logged as "fping failed"); SNMP polling is not affected. Fix one of:
    sudo setcap cap_net_raw+ep "$(command -v fping)"            # what Debian's package sets
    sudo sysctl net.ipv4.ping_group_range="0 2147483647"       # unprivileged ICMP for every group
  (README: Ping and traps, "What fping needs")
EOF
fi
# A cut in the simulator stops ping too only where it may blackhole addresses (simulator/blackhole.ts).
if [ "$(id -u)" -eq 0 ]; then
  BLACKHOLE_NOTE="a simulated cut stops ping too"
else
  # Every 127.x answers ping on Linux: without blackholes a cut device still answers.
  BLACKHOLE_NOTE="not root: a simulated cut stops SNMP only and shows as 'SNMP not answering', not an outage"
fi

if [ -z "${NETMON_CONFIG:-}" ] && [ -z "${NETMON_INVENTORY:-}" ] && [ ! -f var/badung.inventory.yaml ]; then
  echo "Generating the Badung inventory (987 sites) into var/badung.inventory.yaml"
  npx tsx scripts/generate-inventory.ts --out var/badung.inventory.yaml
fi

if [ -z "${NETMON_CONFIG:-}" ] && [ ! -s var/demo-token ]; then
  # The API takes tokens only; the demo gets an operator token (the config reads var/api-tokens.yaml).
  echo "Making a demo API token (operator): var/demo-token, its hash in var/api-tokens.yaml"
  npx tsx scripts/make-token.ts --name "demo-operator-$(date +%s)" --role operator \
    --out var/api-tokens.yaml --token-file var/demo-token >/dev/null
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

# The config, the inventory and the token file, checked before anything starts; the summary says where
# the monitor will listen and write (the banner below prints those, not the defaults).
if ! SUMMARY=$(node --import tsx collector/main.ts --config "$CONFIG" --check --json); then
  echo "badung-netmon: not started: fix $CONFIG (the errors above say where), then run npm start again" >&2
  exit 2
fi
# One value a line, in this order (paths and URLs hold no newline).
mapfile -t FIELDS < <(node -e '
  const s = JSON.parse(process.argv[1]);
  for (const k of ["inventory", "api", "influx", "influxDatabase", "mqtt", "sites", "traps", "ping"]) console.log(s[k] ?? "");
' "$SUMMARY")
INVENTORY=${FIELDS[0]}
API_URL=${FIELDS[1]}
INFLUX_URL=${FIELDS[2]}
INFLUX_DB=${FIELDS[3]}
MQTT_URL=${FIELDS[4]}
SITES=${FIELDS[5]}
TRAPS=${FIELDS[6]:-}
PING=${FIELDS[7]:-}
# The simulator sends its traps to the receiver's port on loopback (a receiver on 0.0.0.0 gets them).
TRAP_TO=""
[ -n "$TRAPS" ] && TRAP_TO="127.0.0.1:${TRAPS##*:}"

COLLECTOR_PID=""
SIM_PID=""
STOP_SIGNAL=""
# Stop one process (or its process group) with TERM, give it `timeout` seconds, then KILL. 0: stopped in time.
stop_process() {
  local pid=$1 name=$2 timeout=$3 group=$4 cmd=$5
  alive_as "$pid" "$cmd" || return 0
  if [ -n "$group" ]; then kill -TERM -- "-$pid" 2>/dev/null || true; else kill -TERM "$pid" 2>/dev/null || true; fi
  local deadline=$((SECONDS + timeout))
  while alive_as "$pid" "$cmd"; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "badung-netmon: the $name did not stop within ${timeout} s: killing it" >&2
      if [ -n "$group" ]; then kill -KILL -- "-$pid" 2>/dev/null || true; else kill -KILL "$pid" 2>/dev/null || true; fi
      return 1
    fi
    sleep 0.1
  done
}
cleanup() {
  local rc=$? clean=0
  trap '' INT TERM
  [ -n "$COLLECTOR_PID" ] && { stop_process "$COLLECTOR_PID" collector "$STOP_TIMEOUT" '' collector/main.ts || clean=1; }
  # The collector is gone: the simulator and InfluxDB no longer depend on each other, stop both at once.
  local influx_stop
  bash scripts/influxdb.sh stop &
  influx_stop=$!
  [ -n "$SIM_PID" ] && { stop_process "$SIM_PID" simulator 5 group simulator/main.ts || clean=1; }
  rm -f "$SIM_PIDFILE" "$VAR/collector.pid"
  wait "$influx_stop" || clean=1
  rm -f "$PIDFILE"
  # A stop someone asked for (Ctrl-C, kill) that went cleanly is a success, not an npm error.
  if [ -n "$STOP_SIGNAL" ]; then
    echo "badung-netmon stopped ($STOP_SIGNAL)"
    exit "$clean"
  fi
  exit "$rc"
}
on_signal() {
  STOP_SIGNAL=$1
  trap '' INT TERM
  echo "badung-netmon: stopping ($1): the collector first, then the simulator and InfluxDB" >&2
  exit 0 # runs cleanup (the EXIT trap)
}
trap cleanup EXIT
trap 'on_signal SIGINT' INT
trap 'on_signal SIGTERM' TERM
echo $$ >"$PIDFILE"

bash scripts/influxdb.sh start

echo "Starting the fleet simulator (log: $SIM_LOG)"
setsid node --import tsx simulator/main.ts --inventory "$INVENTORY" --control "$SIM_CONTROL" \
  ${MQTT_URL:+--mqtt "$MQTT_URL"} ${TRAP_TO:+--trap-to "$TRAP_TO"} >"$SIM_LOG" 2>&1 </dev/null &
SIM_PID=$!
echo "$SIM_PID" >"$SIM_PIDFILE"
deadline=$((SECONDS + 120))
until grep -q 'simulator ready' "$SIM_LOG" 2>/dev/null; do
  if ! kill -0 "$SIM_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
    echo "the simulator failed to start; the last lines of $SIM_LOG:" >&2
    tail -20 "$SIM_LOG" >&2
    exit 1
  fi
  sleep 0.2
done

cat <<MSG

badung-netmon is starting ($SITES sites; pid $$, stop it with Ctrl-C or: kill $$). Where to look:
  Console         $API_URL/  $CONSOLE_SIGNIN
  InfluxDB        $INFLUX_URL   database '$INFLUX_DB'   e.g.
                  curl -sG $INFLUX_URL/query --data-urlencode db=$INFLUX_DB \\
                    --data-urlencode "q=SELECT count(reachable) FROM device WHERE time > now() - 5m GROUP BY kecamatan"
  Monitor API     $API_URL/health (no token); the rest takes the demo token:
                  export NETMON_TOKEN=\$(cat var/demo-token)
                  curl -s -H "Authorization: Bearer \$NETMON_TOKEN" $API_URL/api/v1/incidents
                  curl -s -H "Authorization: Bearer \$NETMON_TOKEN" $API_URL/api/v1/health
  Feeds (BPBD)    $API_URL/feeds/outages.geojson   $API_URL/feeds/cap.atom (same token)
  Simulator       http://$SIM_CONTROL/status   cut a site:  curl -X POST http://$SIM_CONTROL/sites/<site-id>/cut
                  SNMP stops, ping answers:  curl -X POST http://$SIM_CONTROL/devices/<device-id>/snmp-stop
                  a trap:  curl -X POST http://$SIM_CONTROL/devices/<device-id>/trap -d '{"type":"linkDown","ifIndex":2}'
                  every action: node --import tsx simulator/main.ts --help
  Ping            ${PING:-off}${PING:+ (every device / routers of critical sites; $FPING_NOTE; $BLACKHOLE_NOTE)}
  Traps           ${TRAPS:-off}${TRAPS:+ (UDP; the simulator sends its traps to $TRAP_TO)}
  MQTT broker     ${MQTT_URL:-none}
  Logs            this terminal (JSON lines; alerts are level "warn", msg "ALERT"); simulator: $SIM_LOG
Every site is polled within the first minute; rates appear from the second poll on.

MSG
# In the background, so this script's traps run at once when a signal comes (bash runs a trap only after
# its foreground child has exited, which is what made `kill <pid>` take a minute).
node --import tsx collector/main.ts --config "$CONFIG" &
COLLECTOR_PID=$!
echo "$COLLECTOR_PID" >"$VAR/collector.pid"
set +e
wait "$COLLECTOR_PID"
rc=$?
COLLECTOR_PID=""
echo "badung-netmon: the collector exited (status $rc)" >&2
exit "$rc"
