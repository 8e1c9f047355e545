package io.sluice.renderer.bench;

import io.sluice.model.ClusterModel;
import io.sluice.model.LabelSelector;
import io.sluice.model.ModelEvent;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.policy.PolicyCompiler;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * NetworkPolicy compiler figures ({@code make bench}). Today: the flow count of one rule with 100 peers x 10 ports
 * on a switch holding the selected pod (a cross product would be 1,000).
 */
public final class NetpolBench {
  private NetpolBench() { }

  public static void main(String[] args) {
    System.out.println("BENCH netpol.rule_100x10.flows " + rule100x10() + " flows");
    scale100k(args.length > 0 ? Integer.parseInt(args[0]) : 25_000);
    allSelect10k(args.length > 1 ? Integer.parseInt(args[1]) : 10_000);
  }

  /**
   * Antrea's one-namespace scenario: 10,000 pods and 10,000 policies, each selecting every pod and allowing ingress
   * from every pod (the same selector on both sides), 100 pods per switch. groups: index and address sets; compile:
   * that plus the full tables of every switch.
   */
  static void allSelect10k(int n) {
    List<ModelEvent> ev = new ArrayList<>(n * 3);
    int podsPerSwitch = 100;
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("scale", Map.of("app", "scale"))));
    Map<String, String> labels = Map.of("app-1", "scale-1");
    for (int i = 0; i < n; i++) {
      Pod p = new Pod(new ObjectRef("scale", "pod-" + i), labels, List.of(ip(i)), List.of(), false);
      ev.add(new ModelEvent.PodUpserted(p));
      ev.add(new ModelEvent.PortBound(new PortBinding(p.ref(), 1 + i / podsPerSwitch, 1 + i % podsPerSwitch, null)));
    }
    LabelSelector sel = LabelSelector.of(labels);
    for (int i = 0; i < n; i++) {
      ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef("scale", "np-" + i), sel,
          Set.of(NetworkPolicy.PolicyType.INGRESS),
          List.of(new NetworkPolicy.Rule(List.of(new NetworkPolicy.Peer.Pods(java.util.Optional.empty(), sel)), List.of())),
          List.of())));
    }
    Snapshot snap = new ClusterModel(1).apply(ev);
    ev = null;
    int switches = (n + podsPerSwitch - 1) / podsPerSwitch;
    Run cold = Run.of(snap, switches);
    Run warm = Run.median(snap, switches, 3);
    System.err.printf(java.util.Locale.ROOT, "netpol allselect: %d pods, %d policies, %d switches, %d address sets, %d flows"
        + " (max %d per switch); cold %.3f s / %.3f s; warm %s%n", snap.pods().size(), snap.networkPolicies().size(),
        switches, warm.addressSets, warm.flows, warm.maxFlows, cold.groups, cold.compile, warm);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.allselect_10k.groups_s %.3f s%n", warm.groups);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.allselect_10k.compile_s %.3f s%n", warm.compile);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.allselect_10k.compile_cold_s %.3f s%n", cold.compile);
  }

  /**
   * One full compile of a snapshot from scratch: a new index (no memo of an earlier run), every peer selector
   * resolved (groups), then the tables of every switch rendered concurrently, as each switch's sync thread does in
   * the controller (compile). Flows are counted, not kept.
   */
  static final class Run {
    final io.sluice.renderer.Renderer renderer = new io.sluice.renderer.Renderer(io.sluice.renderer.pipeline.PipelineProfile.ovs(), 1);
    io.sluice.renderer.policy.PolicyIndex index;
    double groups;
    double compile;
    double cpu;
    long gcMs;
    long flows;
    int maxFlows;
    int addressSets;
    long peak;

    static Run of(Snapshot snap, int switches) {
      System.gc();
      Run r = new Run();
      long c0 = cpuNanos();
      long gc0 = gcMillis();
      long t0 = System.nanoTime();
      r.index = io.sluice.renderer.policy.PolicyIndex.of(snap);
      r.index.resolveAll();
      r.groups = (System.nanoTime() - t0) / 1e9;
      io.sluice.renderer.policy.PolicyIndex index = r.index;
      int[] sizes = java.util.stream.LongStream.rangeClosed(1, switches).parallel()
          .mapToInt(dpid -> r.renderer.render(index, dpid).size()).toArray();
      r.compile = (System.nanoTime() - t0) / 1e9;
      r.cpu = (cpuNanos() - c0) / 1e9;
      r.gcMs = gcMillis() - gc0;
      r.addressSets = index.addressSets();
      r.flows = java.util.Arrays.stream(sizes).asLongStream().sum();
      r.maxFlows = java.util.Arrays.stream(sizes).max().orElse(0);
      return r;
    }

    /** The run with the median compile time of {@code n} (this machine is noisy: one run can be off by half). */
    static Run median(Snapshot snap, int switches, int n) {
      List<Run> runs = new ArrayList<>();
      Run last = null;
      for (int i = 0; i < n; i++) {
        if (last != null) {
          last.index = null; // each run's peak holds the snapshot and its own index only
        }
        System.gc();
        resetPeaks();
        last = of(snap, switches);
        last.peak = peakHeapBytes();
        runs.add(last);
      }
      Run newest = last;
      runs.sort(java.util.Comparator.comparingDouble(r -> r.compile));
      Run mid = runs.get(n / 2);
      mid.index = newest.index; // the same snapshot's index, for what follows
      mid.peak = runs.stream().mapToLong(r -> r.peak).max().orElse(0);
      System.err.printf(java.util.Locale.ROOT, "netpol: %d steady-state runs, compile %s s%n", n,
          runs.stream().map(r -> String.format(java.util.Locale.ROOT, "%.3f", r.compile)).toList());
      return mid;
    }

    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "groups %.3f s, compile %.3f s (%.2f s of CPU, %d ms of GC pauses)",
          groups, compile, cpu, gcMs);
    }
  }

  /**
   * Antrea's scale scenario: 25,000 namespaces of 4 pods and 3 policies (100,000 pods, 75,000 policies), 100 pods per
   * switch. groups: index, every peer selector's address set, and which policies each switch needs; compile: that
   * plus the full tables (base pipeline and policy flows) of every switch. Flows are counted, not kept.
   */
  static void scale100k(int namespaces) {
    int podsPerSwitch = 100;
    List<ModelEvent> ev = io.sluice.renderer.scenario.ScaleScenario.events(namespaces, podsPerSwitch, 1);
    int pod = namespaces * 4;
    Snapshot snap = new ClusterModel(1).apply(ev);
    ev = null;
    int switches = (pod + podsPerSwitch - 1) / podsPerSwitch;
    // the first run pays for class loading and JIT compilation (a controller does so once, at start); then the
    // steady state: the median of three runs, with the heap's peak over them (the snapshot included)
    Run cold = Run.of(snap, switches);
    cold.index = null;
    Run warm = Run.median(snap, switches, 3);
    long peak = warm.peak;
    System.err.printf(java.util.Locale.ROOT, "netpol scale: %d pods, %d namespaces, %d policies, %d switches, %d address sets;"
        + " cold %.3f s / %.3f s; warm %s%n", snap.pods().size(), snap.namespaces().size(), snap.networkPolicies().size(),
        switches, warm.addressSets, cold.groups, cold.compile, warm);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.scale_100k.groups_s %.3f s%n", warm.groups);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.scale_100k.compile_s %.3f s%n", warm.compile);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.scale_100k.compile_cold_s %.3f s%n", cold.compile);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.scale_100k.peak_heap_mb %d MB%n", peak >> 20);
    System.out.println("BENCH netpol.scale_100k.flows_total " + warm.flows + " flows");
    System.out.println("BENCH netpol.scale_100k.flows_per_switch_max " + warm.maxFlows + " flows");
    io.sluice.renderer.Renderer renderer = warm.renderer;
    io.sluice.renderer.policy.PolicyIndex index = warm.index;

    // one pod-label change: derive the next index, then every switch renders or keeps its tables
    io.sluice.renderer.Renderer.Rendered[] last = new io.sluice.renderer.Renderer.Rendered[switches];
    java.util.stream.IntStream.range(0, switches).parallel().forEach(i -> last[i] = renderer.render(index, i + 1, null));
    Snapshot later = new Snapshot(snap.generation() + 1, snap.namespaces(),
        ((io.sluice.model.PersistentMap<ObjectRef, Pod>) snap.pods()).with(new ObjectRef("ns-0", "pod-1"),
            ((ModelEvent.PodUpserted) io.sluice.renderer.scenario.ScaleScenario.labelFlip(snap, "ns-0")).pod()),
        snap.bindings(), snap.networkPolicies(), snap.services(), snap.endpointSlices());
    long t1 = System.nanoTime();
    io.sluice.renderer.policy.PolicyIndex next = index.next(later);
    double nextMs = (System.nanoTime() - t1) / 1e6;
    int[] rerendered = {0};
    java.util.stream.IntStream.range(0, switches).parallel().forEach(i -> {
      io.sluice.renderer.Renderer.Rendered r = renderer.render(next, i + 1, last[i]);
      if (r.inputs() != last[i].inputs()) {
        synchronized (rerendered) {
          rerendered[0]++;
        }
      }
    });
    double allMs = (System.nanoTime() - t1) / 1e6;
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.label_change.index_next_ms %.2f ms%n", nextMs);
    System.out.printf(java.util.Locale.ROOT, "BENCH netpol.label_change.all_switches_ms %.2f ms%n", allMs);
    System.out.println("BENCH netpol.label_change.switches_recompiled " + rerendered[0] + " switches");
  }

  /** Collection time of every collector so far (diagnostic). */
  static long gcMillis() {
    long t = 0;
    for (java.lang.management.GarbageCollectorMXBean b : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      t += Math.max(0, b.getCollectionTime());
    }
    return t;
  }

  /** CPU time of the whole process so far (diagnostic: compares runs on a loaded machine). */
  static long cpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  static String ip(int i) {
    return "10." + (i >> 16 & 0xff) + "." + (i >> 8 & 0xff) + "." + (i & 0xff);
  }

  static void resetPeaks() {
    for (java.lang.management.MemoryPoolMXBean p : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == java.lang.management.MemoryType.HEAP) {
        p.resetPeakUsage();
      }
    }
  }

  /** Sum of the heap pools' peak usage since the last reset (the model snapshot included). */
  static long peakHeapBytes() {
    long sum = 0;
    for (java.lang.management.MemoryPoolMXBean p : java.lang.management.ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == java.lang.management.MemoryType.HEAP) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** Policy flows (rule, isolation, self) for one rule of 100 pod peers and 10 ports, one selected local pod. */
  static int rule100x10() {
    List<ModelEvent> ev = new ArrayList<>();
    ev.add(new ModelEvent.NamespaceUpserted(new Namespace("bench", Map.of())));
    Pod target = new Pod(new ObjectRef("bench", "target"), Map.of("role", "target"), List.of("10.0.0.1"), List.of(), false);
    ev.add(new ModelEvent.PodUpserted(target));
    ev.add(new ModelEvent.PortBound(new PortBinding(target.ref(), 1, 1, null)));
    List<NetworkPolicy.Peer> peers = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Pod p = new Pod(new ObjectRef("bench", "peer-" + i), Map.of("peer", "p" + i), List.of("10.1." + (i / 200) + "." + (i % 200 + 1)),
          List.of(), false);
      ev.add(new ModelEvent.PodUpserted(p));
      peers.add(new NetworkPolicy.Peer.Pods(java.util.Optional.empty(), LabelSelector.of(Map.of("peer", "p" + i))));
    }
    List<NetworkPolicy.Port> ports = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ports.add(NetworkPolicy.Port.of(Protocol.TCP, 8000 + 7 * i));
    }
    ev.add(new ModelEvent.NetworkPolicyUpserted(new NetworkPolicy(new ObjectRef("bench", "p100x10"),
        LabelSelector.of(Map.of("role", "target")), Set.of(NetworkPolicy.PolicyType.INGRESS),
        List.of(new NetworkPolicy.Rule(peers, ports)), List.of())));
    Snapshot s = new ClusterModel(1).apply(ev);
    return PolicyCompiler.compile(s, 1, 1).size();
  }
}
