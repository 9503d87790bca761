# Sourced by the project's scripts: install Debian packages only when missing, so every script is safe
# to run twice. Needs root (or sudo) only when something is actually missing.
ensure_debs() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "badung-netmon: installing Debian packages: ${missing[*]}" >&2
  # A fresh machine has no package lists; an old list can name versions the mirror no longer has.
  $sudo apt-get update -qq >&2
  # Packages such as influxdb and mosquitto would start a system service listening on every interface;
  # the project runs its own instances on loopback, so services are not started at install
  # (policy-rc.d exit 101 = action forbidden), unless the machine already has a policy of its own.
  local policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    policy=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 || rc=$?
  [ -n "$policy" ] && $sudo rm -f "$policy"
  return "$rc"
}

# npm packages: install when node_modules is missing or older than the lock file.
ensure_node_modules() {
  local root="$1"
  if [ ! -d "$root/node_modules" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    (cd "$root" && npm ci --no-audit --no-fund >&2)
  fi
}
