#!/usr/bin/env bash
# Runs Sluice's benchmarks and prints their figures, one `BENCH <name> <value> <unit>` line each:
#   controller  io.sluice.controller.bench.Bench       (push 10k/100k vs ovs-ofctl, reconcile 100k)
#   ovsdb       io.sluice.ovsdb.bench.OvsdbBench        (bind latency, 10k interfaces load)
#   k8s-watcher io.sluice.watcher.bench.ManifestBench   (100k pods load, heap, label change)
#   renderer    io.sluice.renderer.bench.NetpolBench    (NetworkPolicy compiler figures)
#   fabric      io.sluice.renderer.bench.FabricBench    (flows per switch of one intent on the ovs, openflow13-generic and
#               openflow13-single-table profiles: Antrea's one-namespace scenario at 60 pods, 10 per switch, and the
#               100 peers x 10 ports rule)
#   fabric-ovs  io.sluice.controller.bench.FabricOvsBench (real OVS, OpenFlow 1.3-only bridges: LLDP discovery of a
#               20-switch leaf-spine; one-way outage when a leaf's busy uplink goes down, with select groups and without
#               groups (controller recompute))
#   services    io.sluice.renderer.bench.ServiceBench   (Service compiler: 10k Services x 10 endpoints, 1,000 switches)
#   labels      io.sluice.controller.bench.LabelChangeBench (one pod-label change at 100k pods, real OVS bridge)
#   services-ovs io.sluice.controller.bench.ServiceChangeBench (endpoint change at 10k Services, reject latency,
#               datapath ratio via a cluster IP; real OVS bridges)
#   k8s         io.sluice.controller.bench.KubernetesBench (Sluice's informer start-up at 10k pods, heap, label change
#               through the API; real OVS bridge). The API server is fabric8's mock in CRUD mode in a JVM of its own
#               (MockApiProcess: 1,000 namespaces, 10,000 pods, 1,000 policies, 2,000 Services and EndpointSlices,
#               loaded through the API, then each list served a few times to warm it up) started before the clock, so
#               its work shares neither Sluice's heap, collector nor CPU accounting; a watch from a list's version gets
#               only later changes, as from a real API server (the mock alone replays every object); it is killed when
#               the bench ends and exits by itself after 15 min. Sluice's JVM starts cold, as a real start does.
#               k8s.startup_10k_pods_s runs from SluiceRuntime.start to the barrier confirming the first generation on
#               the bridge; .lists_s is the part until every informer has listed
#               (the server answering, the client decoding, Sluice converting), .to_model_s from there to the model
#               holding it, .to_first_barrier_s from the lists to the barrier (Sluice's own share: model, compile,
#               first push), .cpu_s the CPU time Sluice's JVM used meanwhile (all threads: it does not stretch on a
#               loaded machine as the wall-clock figures do)
#   ha          io.sluice.controller.bench.FailoverBench (leader killed -> new leader's confirmed barrier, median of 5)
#   ovs         io.sluice.controller.bench.OvsBench (ovs-ctl restart and kill -9 of ovs-vswitchd under a 10 ms ping;
#               a private OVS instance, never the system one)
#   load        io.sluice.controller.bench.LoadBench (5,000 simulated switches held by one sluice run: RSS, threads;
#               an echo flood whose replies are never read: RSS growth)
#   audit       io.sluice.controller.bench.AuditBench (denied packets logged per second and lost; TCP connection rate
#               with every allowed connection logged / without, and the CPU Sluice's JVM and ovs-vswitchd used per
#               logged event; real OVS bridge)
#   trace       io.sluice.controller.bench.TraceBench (median time of one `sluice trace`: API, ovs-appctl ofproto/trace,
#               parse; 3,000 pods, 100 policies on the traced pod; real OVS bridge)
#   advise      io.sluice.controller.bench.AdviseBench (sluice advise on 10,000 observed connections, 1,000 pods)
# `deploy/bench.sh controller` (or ovsdb, manifests, netpol, fabric, fabric-ovs, services, services-ovs, labels, k8s, ha, ovs, load, audit, trace, advise) runs one; `deploy/bench.sh gc` compares the
# default collector with G1 on cold manifest loads (not part of all). JVMs run as ./sluice does: with deploy/java-options,
# the launcher's class path first (the controller's jar and lib/, as `mvn package` makes them) and its class-data
# sharing archive (deploy/cds.sh, made here as `make build` makes it when the jars are newer); the bench's own classes
# and test dependencies come after. BENCH_JAVA_OPTS adds options.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}

mvn -B -q package -DskipTests dependency:build-classpath -Dmdep.outputFile=target/bench.classpath \
  -Dmdep.includeScope=test
deploy/cds.sh --if-stale || true

classes() { # module -> its classes, test classes and resolved dependencies
  echo "$1/target/test-classes:$1/target/classes:$(cat "$1/target/bench.classpath")"
}
# shellcheck source=deploy/java-options.sh
. deploy/java-options.sh
run() { # module main-class [args]
  local module=$1 main=$2; shift 2
  # the launcher's class path first, as ./sluice has it; then the bench's classes and sibling modules' test classes
  local cp
  cp="$(sluice_classpath "$PWD"):$(classes "$module"):model/target/classes:openflow-renderer/target/classes:ovsdb/target/classes:k8s-watcher/target/classes:k8s-watcher/target/test-classes"
  # shellcheck disable=SC2086  # BENCH_JAVA_OPTS is a list of options
  java $(sluice_java_options "${BENCH_JAVA_OPTS:-}") $(sluice_cds_options "$PWD") ${BENCH_JAVA_OPTS:-} -Xmx3g -cp "$cp" "$main" "$@"
}

case "$which" in all|netpol) run openflow-renderer io.sluice.renderer.bench.NetpolBench ;; esac
case "$which" in all|fabric) run openflow-renderer io.sluice.renderer.bench.FabricBench ;; esac
case "$which" in all|fabric-ovs) run controller io.sluice.controller.bench.FabricOvsBench ;; esac
case "$which" in all|services) run openflow-renderer io.sluice.renderer.bench.ServiceBench ;; esac
case "$which" in all|manifests) run k8s-watcher io.sluice.watcher.bench.ManifestBench ;; esac
case "$which" in all|ovsdb) run ovsdb io.sluice.ovsdb.bench.OvsdbBench ;; esac
case "$which" in all|controller) run controller io.sluice.controller.bench.Bench ;; esac
case "$which" in all|labels) run controller io.sluice.controller.bench.LabelChangeBench ;; esac
case "$which" in all|services-ovs) run controller io.sluice.controller.bench.ServiceChangeBench ;; esac
case "$which" in all|k8s) run controller io.sluice.controller.bench.KubernetesBench ;; esac
case "$which" in all|ha) run controller io.sluice.controller.bench.FailoverBench ;; esac
case "$which" in all|ovs) run controller io.sluice.controller.bench.OvsBench ;; esac
case "$which" in all|load) run controller io.sluice.controller.bench.LoadBench ;; esac
case "$which" in all|audit) run controller io.sluice.controller.bench.AuditBench ;; esac
case "$which" in all|trace) run controller io.sluice.controller.bench.TraceBench ;; esac
case "$which" in all|advise) run controller io.sluice.controller.bench.AdviseBench ;; esac
if [ "$which" = gc ]; then # not in "all": cold manifest loads, G1 and deploy/java-options alternating, side by side
  dir=$(mktemp -d)/manifests
  trap 'rm -rf "$(dirname "$dir")"' EXIT
  for round in 1 2 3; do
    BENCH_JAVA_OPTS=-XX:+UseG1GC run k8s-watcher io.sluice.watcher.bench.ColdLoadBench "$dir"
    run k8s-watcher io.sluice.watcher.bench.ColdLoadBench "$dir"
  done
fi
