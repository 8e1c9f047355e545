#!/usr/bin/env bash
# Starts Open vSwitch (ovsdb-server and ovs-vswitchd, userspace datapath) unless both already answer,
# then waits until they do. Idempotent. There is no systemd and no OVS kernel module here, so ovs-ctl
# is called directly; its warnings about ulimits and kernel modules are harmless.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
  echo "ovs-start: must run as root (no sudo found)" >&2
  exit 1
fi

OVS_CTL=/usr/share/openvswitch/scripts/ovs-ctl
[ -x "$OVS_CTL" ] || { echo "ovs-start: $OVS_CTL not found; run deploy/install-deps.sh first" >&2; exit 1; }

# ovs-vsctl only talks to ovsdb-server; ask ovs-vswitchd too, or a dead vswitchd goes unnoticed.
ovs_up() {
  ovs-vsctl --timeout=2 show >/dev/null 2>&1 &&
    timeout 3 ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1
}

if ! ovs_up; then
  log=$(mktemp /tmp/sluice-ovs-start.XXXXXX.log)
  if ! "$OVS_CTL" --system-id=random --no-monitor start >"$log" 2>&1; then
    echo "ovs-start: ovs-ctl start failed:" >&2
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi

for _ in $(seq 1 50); do          # at most ~10 s
  if ovs_up; then exit 0; fi
  sleep 0.2
done
echo "ovs-start: Open vSwitch did not answer within 10 s (see /var/log/openvswitch/*.log)" >&2
exit 1
