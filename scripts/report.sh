#!/usr/bin/env bash
# `npm run report -- ARGS`: the uptime report (scripts/report.ts, same arguments). A PDF (the default
# format) is rendered by Debian's Chromium: it and a font with Indonesian and English glyphs are installed
# here first when missing, so the command works on a machine that never ran `npm test`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/lib/apt.sh
source "$ROOT/scripts/lib/apt.sh"

format=pdf
help=""
prev=""
for arg in "$@"; do
  case "$arg" in
    --format=*) format=${arg#--format=} ;;
    -h | --help) help=1 ;;
  esac
  [ "$prev" = "--format" ] && format=$arg
  prev=$arg
done

ensure_node_modules "$ROOT"
if [ -z "$help" ] && [ "$format" = pdf ] && [ -z "${NETMON_CHROMIUM:-}" ]; then
  ensure_debs chromium fonts-dejavu-core
fi
exec "$ROOT/node_modules/.bin/tsx" "$ROOT/scripts/report.ts" "$@"
