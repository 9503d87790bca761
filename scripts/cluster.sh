#!/usr/bin/env bash
# `npm run cluster`: a local cluster on loopback (three nats-server nodes, PostgreSQL, InfluxDB, the
# simulator, three collectors and two alerting candidates), data under var/cluster/. See scripts/cluster.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
ensure_node_modules .
ensure_debs influxdb nats-server postgresql fping snmp
# cluster.ts and everything it starts run in a session of their own: Ctrl-C (SIGINT to the terminal's whole
# foreground group) would otherwise reach the nats-server nodes while the collectors still publish their last
# results ("results not acked at stop are lost"). This script passes the stop on; cluster.ts stops the monitor
# processes first, then the simulator and the servers.
setsid node --import tsx scripts/cluster.ts "$@" &
CLUSTER_PID=$!
trap 'kill -TERM "$CLUSTER_PID" 2>/dev/null || true' INT TERM
# wait returns early when a trapped signal comes: wait again for the stop itself, and give its exit status.
while :; do
  rc=0
  wait "$CLUSTER_PID" || rc=$?
  kill -0 "$CLUSTER_PID" 2>/dev/null || break
done
exit "$rc"
