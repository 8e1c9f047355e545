#!/usr/bin/env bash
# Installs what Sluice's build, tests and demo need on Debian 12, and nothing that is already there.
# Idempotent: a second run installs nothing and does not touch apt's lists.
# Quiet: apt's chatter goes to a log that is printed only when something fails.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
  echo "install-deps: must run as root (no sudo found)" >&2
  exit 1
fi

# Debian packages the scripts and tests use. python3 here is Debian's /usr/bin/python3
# (Mininet's interpreter), not whatever python3 comes first on PATH. chromium runs the web view's
# test headless (WebViewIT).
packages=(openvswitch-switch mininet ethtool iputils-ping netcat-openbsd iperf3 tcpdump iproute2 curl python3 chromium)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

# A JDK 17 or newer (javac, not just java) and Maven count as present whoever installed them.
java_major() {
  command -v javac >/dev/null 2>&1 || { echo 0; return; }
  javac -version 2>&1 | sed -n 's/^javac \([0-9][0-9]*\).*/\1/p' | head -n1
}
jm=$(java_major); jm=${jm:-0}
if [ "$jm" -lt 17 ]; then missing+=(default-jdk-headless); fi
command -v mvn >/dev/null 2>&1 || missing+=(maven)
# kubectl drives one API-server test as a user would; any kubectl on PATH will do, else Debian's.
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
log=$(mktemp /tmp/sluice-install-deps.XXXXXX.log)
export DEBIAN_FRONTEND=noninteractive
run() {
  if ! "$@" >>"$log" 2>&1; then
    echo "install-deps: failed: $*" >&2
    tail -n 40 "$log" >&2
    echo "install-deps: full log in $log" >&2
    exit 1
  fi
}
run apt-get -q update
run apt-get -q install -y --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
rm -f "$log"
echo "install-deps: done"
