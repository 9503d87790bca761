#!/usr/bin/env bash
# The project's InfluxDB: Debian's influxd (1.x API) as a plain process, data in var/influxdb, HTTP on
# 127.0.0.1:${NETMON_INFLUX_PORT:-8086}. No systemd. Safe to run twice. NETMON_VAR_DIR moves var/.
#   bash scripts/influxdb.sh start | stop | status
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

DIR=${NETMON_VAR_DIR:-var}/influxdb
PORT=${NETMON_INFLUX_PORT:-8086}
PIDFILE=$DIR/influxd.pid
LOG=$DIR/influxd.log

# Ours: the pid in the file is alive and is the influxd wrapper (not a reused pid after a reboot).
running() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'servers/influxd.ts'
}
ping_ok() { curl -fsS -o /dev/null "http://127.0.0.1:$PORT/ping" 2>/dev/null; }

case "${1:-}" in
  start)
    if running; then
      echo "InfluxDB already running (pid $(cat "$PIDFILE")) at http://127.0.0.1:$PORT"
      exit 0
    fi
    if ping_ok; then
      echo "something already answers on 127.0.0.1:$PORT (not ours): stop it or set NETMON_INFLUX_PORT" >&2
      exit 1
    fi
    ensure_debs influxdb curl
    ensure_node_modules .
    mkdir -p "$DIR"
    # The wrapper writes influxd.conf (loopback only, data under $DIR), starts influxd and stops it on SIGTERM.
    # setsid: its own process group, so a Ctrl-C meant for the collector does not stop the database
    # before the collector has flushed; `stop` ends it.
    setsid nohup node --import tsx scripts/lib/servers/influxd.ts --data-dir "$DIR" --port "$PORT" >"$LOG" 2>&1 &
    echo $! >"$PIDFILE"
    # Up to 2 minutes: opening a large data dir on a busy machine is slow (the wrapper gives up then too).
    for _ in $(seq 1 240); do
      if ping_ok; then
        echo "InfluxDB running at http://127.0.0.1:$PORT (data in $DIR, log $LOG)"
        exit 0
      fi
      running || break
      sleep 0.5
    done
    echo "InfluxDB did not start; the last lines of $LOG:" >&2
    tail -20 "$LOG" >&2 || true
    exit 1
    ;;
  stop)
    if running; then
      pid=$(cat "$PIDFILE")
      # The wrapper leads its own process group (setsid): signal the group, influxd included.
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      if kill -0 "$pid" 2>/dev/null; then
        echo "InfluxDB did not stop within 10 s: killing it" >&2
        kill -KILL -- "-$pid" 2>/dev/null || true
      fi
      echo "InfluxDB stopped"
    else
      echo "InfluxDB is not running"
    fi
    rm -f "$PIDFILE"
    ;;
  status)
    if running && ping_ok; then
      echo "InfluxDB running (pid $(cat "$PIDFILE")) at http://127.0.0.1:$PORT"
    else
      echo "InfluxDB is not running"
      exit 3
    fi
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
