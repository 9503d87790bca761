#!/usr/bin/env bash
# `npm run cluster`: a local cluster on loopback (three nats-server nodes, PostgreSQL, InfluxDB, the
# simulator, three collectors and two alerting candidates), data under var/cluster/. See scripts/cluster.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
ensure_node_modules .
ensure_debs influxdb nats-server postgresql fping snmp
exec node --import tsx scripts/cluster.ts "$@"
