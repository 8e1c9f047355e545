#!/usr/bin/env bash
# Sluice demo: four "pods" (network namespaces) on one OVS bridge, run by a Sluice controller.
#
#   make demo                   build, start OVS, run until Ctrl-C, then remove everything it made
#   make demo DEMO_ONESHOT=1    print the report once, clean up, exit 0 only if everything worked
#
# What it makes: the bridge sluice-demo (userspace datapath, OpenFlow 1.3-1.5, fail-mode secure, controller
# tcp:127.0.0.1:6653 set when the bridge is created, so the controller installs the first flow), one network
# namespace sd-<pod> per pod with a veth whose bridge end carries external_ids pod-namespace/pod-name/attached-mac,
# a small HTTP server on port 8080 in each namespace, and the controller (./sluice run).
# Hidden, for testing: DEMO_STANDALONE=1 makes the bridge a learning switch and starts no controller;
# DEMO_SLUICE=PATH runs another controller executable instead of ./sluice.
set -euo pipefail

# The pods, matching examples/demo/*.yaml (namespace, name, IP; the MAC is derived from the IP).
PODS=(
  "frontend web-1 10.244.0.11"
  "frontend web-2 10.244.0.12"
  "backend  api-1 10.244.0.21"
  "backend  db-1  10.244.0.22"
)
PREFIX_LEN=24
GATEWAY=10.244.0.254             # no port owns it: pods send off-link traffic (cluster IPs) there, the bridge translates
GATEWAY_MAC=0a:58:0a:f4:00:fe
SERVICE="frontend/web 10.96.0.80 80"
BRIDGE=sluice-demo
DPID=0000000000005d01            # 00:00:00:00:00:00:5d:01 in Sluice's API
OF_LISTEN=127.0.0.1:6653
HTTP_LISTEN=127.0.0.1:8181
API=http://$HTTP_LISTEN
SERVER_PORT=8080
READY_TIMEOUT=90                 # JVM start plus whatever the controller does before it is ready
REALIZE_TIMEOUT=30
ONESHOT=${DEMO_ONESHOT:-}
STANDALONE=${DEMO_STANDALONE:-}
SLUICE=${DEMO_SLUICE:-./sluice}

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then exec sudo -E "$0" "$@"; fi
  echo "demo: needs root for namespaces and OVS (no sudo found)" >&2
  exit 1
fi

cd "$(dirname "$0")/../.."
ROOT=$PWD
MANIFESTS=$ROOT/examples/demo
REPORT=(/usr/bin/python3 "$ROOT/deploy/demo/report.py")

say() { printf '\n== %s\n' "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

ns_of() { echo "sd-$1"; }           # network namespace of a pod
br_end() { echo "sd-$1-br"; }       # veth end on the bridge (at most 15 characters)
mac_of() { printf '0a:58:%02x:%02x:%02x:%02x' ${1//./ }; }

# One demo at a time: the lock tells a crashed run's leftovers (safe to remove) from a live demo's.
exec 9>/run/sluice-demo.lock
flock -n 9 || die "another demo is running (it holds /run/sluice-demo.lock); stop it first"

WORK=$(mktemp -d /tmp/sluice-demo.XXXXXX)
CONTROLLER_PID=
SERVER_PIDS=()

remove_topology() {
  # the database change is what matters; a busy ovs-vswitchd may take a while to apply it
  ovs-vsctl --timeout=30 --if-exists del-br "$BRIDGE" 2>/dev/null || true
  local entry ns pod ip
  for entry in "${PODS[@]}"; do
    read -r ns pod ip <<<"$entry"
    ip link del "$(br_end "$pod")" 2>/dev/null || true
    if [ -e "/run/netns/$(ns_of "$pod")" ]; then
      for pid in $(ip netns pids "$(ns_of "$pod")"); do kill "$pid" 2>/dev/null || true; done
      ip netns del "$(ns_of "$pod")" || true
    fi
  done
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  say "Cleaning up"
  for pid in "${SERVER_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  if [ -n "$CONTROLLER_PID" ] && kill -0 "$CONTROLLER_PID" 2>/dev/null; then
    kill -TERM -- "-$CONTROLLER_PID" 2>/dev/null     # its own process group: ./sluice and its java
    for _ in $(seq 1 50); do kill -0 "$CONTROLLER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$CONTROLLER_PID" 2>/dev/null
  fi
  remove_topology
  if [ "$rc" -ne 0 ] && [ -s "$WORK/controller.log" ]; then
    echo "Last lines of the controller's log:"; tail -n 30 "$WORK/controller.log"
  fi
  rm -rf "$WORK"
  echo "Removed bridge $BRIDGE, namespaces sd-*, their veths and processes."
  exit "$rc"
}
trap cleanup EXIT
RUNNING=
on_signal() { if [ -n "$RUNNING" ]; then exit 0; else exit "$1"; fi; }   # Ctrl-C is how a running demo stops
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

command -v ovs-vsctl >/dev/null || die "Open vSwitch is missing: run deploy/install-deps.sh"
ovs-vsctl --timeout=2 show >/dev/null 2>&1 || die "Open vSwitch is not running: run deploy/ovs-start.sh"

# Leftovers of a run that was killed before it could clean up (we hold the lock, so no demo is live).
remove_topology

for entry in "${PODS[@]}"; do
  read -r ns pod ip <<<"$entry"
  grep -rqs "podIP: $ip\$" "$MANIFESTS" || echo "demo: warning: $ns/$pod $ip is not in $MANIFESTS; keep the two in step" >&2
done

if [ -z "$STANDALONE" ]; then
  [ -x "$SLUICE" ] || die "$SLUICE not found: it is the controller's launcher, made by the build (make build)"
  for hp in "$OF_LISTEN" "$HTTP_LISTEN"; do
    if [ -n "$(ss -Hltn "sport = :${hp##*:}")" ]; then
      die "something already listens on port ${hp##*:} (another Sluice?): stop it first"
    fi
  done
fi

say "Building the demo topology"
if [ -n "$STANDALONE" ]; then
  ovs-vsctl --timeout=10 add-br "$BRIDGE" -- set bridge "$BRIDGE" datapath_type=netdev \
    protocols=OpenFlow13,OpenFlow14,OpenFlow15 fail_mode=standalone other-config:datapath-id=$DPID
  echo "bridge $BRIDGE: fail-mode standalone, no controller (DEMO_STANDALONE test mode)"
else
  # The controller goes in with the bridge itself: a secure bridge without one has no flows at all,
  # and connecting a controller later would flush whatever had been installed.
  ovs-vsctl --timeout=10 add-br "$BRIDGE" -- set bridge "$BRIDGE" datapath_type=netdev \
    protocols=OpenFlow13,OpenFlow14,OpenFlow15 fail_mode=secure other-config:datapath-id=$DPID \
    -- set-controller "$BRIDGE" "tcp:$OF_LISTEN"
  echo "bridge $BRIDGE: fail-mode secure, controller tcp:$OF_LISTEN"
fi

port=0
POD_ARGS=()
for entry in "${PODS[@]}"; do
  read -r ns pod ip <<<"$entry"
  port=$((port + 1))
  netns=$(ns_of "$pod"); brend=$(br_end "$pod"); mac=$(mac_of "$ip")
  ip netns add "$netns"
  ip link add "$netns-c" type veth peer name "$brend"
  ip link set "$netns-c" netns "$netns"
  ip -n "$netns" link set "$netns-c" name eth0
  ip -n "$netns" link set eth0 address "$mac"
  ip -n "$netns" addr add "$ip/$PREFIX_LEN" dev eth0
  ip -n "$netns" link set lo up
  ip -n "$netns" link set eth0 up
  ip -n "$netns" route add default via "$GATEWAY"
  ip -n "$netns" neigh replace "$GATEWAY" lladdr "$GATEWAY_MAC" dev eth0 nud permanent
  ip link set "$brend" up
  # The userspace datapath forwards veth's partial checksums as they are: tx offload off, both ends.
  ip netns exec "$netns" ethtool -K eth0 tx off >/dev/null
  ethtool -K "$brend" tx off >/dev/null
  ovs-vsctl --timeout=10 add-port "$BRIDGE" "$brend" -- set Interface "$brend" ofport_request=$port \
    external_ids:pod-namespace="$ns" external_ids:pod-name="$pod" external_ids:attached-mac="$mac"
  mkdir -p "$WORK/www-$pod"
  echo "$ns/$pod" >"$WORK/www-$pod/index.html"
  setsid ip netns exec "$netns" /usr/bin/python3 -m http.server "$SERVER_PORT" --bind 0.0.0.0 \
    --directory "$WORK/www-$pod" >"$WORK/server-$pod.log" 2>&1 9>&- &
  SERVER_PIDS+=($!)
  printf '%-16s netns %-10s eth0 %-15s %s  bridge port %d (%s)\n' "$ns/$pod" "$netns" "$ip/$PREFIX_LEN" "$mac" "$port" "$brend"
  POD_ARGS+=("$ns:$pod:$ip")
done

for entry in "${PODS[@]}"; do                   # servers listening (bounded: ~5 s each)
  read -r ns pod ip <<<"$entry"
  for _ in $(seq 1 50); do
    [ -n "$(ip netns exec "$(ns_of "$pod")" ss -Hltn "sport = :$SERVER_PORT")" ] && continue 2
    sleep 0.1
  done
  die "the HTTP server in $(ns_of "$pod") did not start: $(cat "$WORK/server-$pod.log")"
done

if [ -z "$STANDALONE" ]; then
  say "Starting Sluice"
  args=(run --listen "$OF_LISTEN" --http "$HTTP_LISTEN")
  if timeout 60 "$SLUICE" run --help 2>&1 | grep -q -- '--manifests'; then
    # Sluice watches a working copy: first without the policies, which are added once the first matrix is printed.
    mkdir -p "$WORK/manifests"
    for f in "$MANIFESTS"/*.yaml; do
      case "$(basename "$f")" in *polic*) ;; *) cp "$f" "$WORK/manifests/" ;; esac
    done
    args+=(--manifests "$WORK/manifests")
  else
    echo "(this build of $SLUICE has no --manifests flag; starting without the example manifests)"
  fi
  if timeout 60 "$SLUICE" run --help 2>&1 | grep -q -- '--ovsdb'; then
    args+=(--ovsdb unix:/var/run/openvswitch/db.sock)
  fi
  echo "$SLUICE ${args[*]}   (log: $WORK/controller.log)"
  setsid "$SLUICE" "${args[@]}" >"$WORK/controller.log" 2>&1 9>&- </dev/null &
  CONTROLLER_PID=$!
  "${REPORT[@]}" wait-ready "$API" "$CONTROLLER_PID" "$READY_TIMEOUT" || exit 1
  echo "$API/readyz: ready"
  "${REPORT[@]}" wait-realized "$API" "$(sed 's/../&:/g; s/:$//' <<<"$DPID")" "$REALIZE_TIMEOUT" || exit 1
fi

# Datapath flows cached before the controller's flows arrived are re-judged asynchronously:
# wait for a revalidation round so the first probes see the new tables.
ovs-appctl revalidator/wait >/dev/null 2>&1 || true

say "Switches and ports"
if [ -n "$STANDALONE" ]; then
  "${REPORT[@]}" switches - "$BRIDGE"
else
  "${REPORT[@]}" switches "$API" "$BRIDGE"
fi

say "Connectivity matrix"
matrix_rc=0
"${REPORT[@]}" matrix "$SERVER_PORT" "${POD_ARGS[@]}" || matrix_rc=$?

[ "$matrix_rc" -eq 0 ] || die "some probes failed (without NetworkPolicies every cell should be ✓)"

if [ -z "$STANDALONE" ] && [ -d "$WORK/manifests" ]; then
  read -r svc vip vport <<<"$SERVICE"
  say "Service $svc ($vip:$vport, from examples/demo/30-services.yaml)"
  "${REPORT[@]}" service "sd-api-1" "$vip" "$vport" 20 || die "the Service did not answer from its endpoints"
fi

if [ -z "$STANDALONE" ] && [ -d "$WORK/manifests" ]; then
  say "Applying the example NetworkPolicies ($(cd "$MANIFESTS" && ls *polic*.yaml | tr '\n' ' '))"
  before=$("${REPORT[@]}" generation "$API")
  cp "$MANIFESTS"/*polic*.yaml "$WORK/manifests/"
  "${REPORT[@]}" wait-realized "$API" "$(sed 's/../&:/g; s/:$//' <<<"$DPID")" "$REALIZE_TIMEOUT" "$before" || exit 1
  ovs-appctl revalidator/purge >/dev/null 2>&1 || true
  policy_rc=0
  "${REPORT[@]}" policy-matrix "$SERVER_PORT" "$SLUICE" "$WORK/manifests" "${POD_ARGS[@]}" || policy_rc=$?
  [ "$policy_rc" -eq 0 ] || die "observed connectivity differs from what sluice explain predicts"
  echo "Per-rule counters: $API/api/v1/policies"
  say "Audit log: connections the policies denied, and those db-from-api allowed, with pod names (newest first)"
  "${REPORT[@]}" audit "$API" 12 || true
fi

if [ -n "$ONESHOT" ]; then
  exit 0
fi

say "The demo is running. Try: ip netns exec sd-web-1 curl -s http://10.244.0.21:$SERVER_PORT/"
[ -n "$STANDALONE" ] || echo "Sluice's API: $API/api/v1/switches   log: $WORK/controller.log"
echo "Press Ctrl-C to stop and clean up."
RUNNING=1
while true; do
  if [ -n "$CONTROLLER_PID" ] && ! kill -0 "$CONTROLLER_PID" 2>/dev/null; then
    die "the controller exited"
  fi
  sleep 1 & wait $! || true
done
