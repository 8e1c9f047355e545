package io.sluice.controller.bench;

import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.SluiceProcess;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * Sluice against an API server (fabric8's mock in CRUD mode, in a JVM of its own: {@link MockApiProcess}) holding
 * 10,000 pods in 1,000 namespaces, 1,000 NetworkPolicies and 2,000 Services with their EndpointSlices; one real OVS
 * bridge holds the pods of the first ten namespaces (bindings applied to the model directly, as OVSDB would report them).
 * <ul>
 *   <li>{@code k8s.startup_10k_pods_s}: from {@code SluiceRuntime.start} (informers start) to the bridge's barrier
 *       confirming the first generation holding every object. The API server process is loaded and has served
 *       each list a few times before the clock starts.</li>
 *   <li>{@code k8s.startup_10k_pods.lists_s}: of that, until every informer has listed (the API server answering,
 *       the client reading and Sluice converting each object as it arrives).</li>
 *   <li>{@code k8s.startup_10k_pods.to_model_s}: from there until the model holds the first state.</li>
 *   <li>{@code k8s.startup_10k_pods.to_first_barrier_s}: from the lists to the confirmed barrier (Sluice's own share:
 *       model, compile, first push to the bridge).</li>
 *   <li>{@code k8s.startup_10k_pods.cpu_s}: CPU time Sluice's JVM spent over the whole start-up (all its threads;
 *       the API server's is in its own process): on a loaded machine the wall-clock figures stretch, this does not.</li>
 *   <li>{@code k8s.heap_per_10k_pods_mb}: heap after full GCs with Sluice running, minus the heap before it started,
 *       per 10,000 pods (the API server's objects are in another process).</li>
 *   <li>{@code k8s.label_change_to_confirmed_ms}: a pod label patched through the API to the bridge's barrier
 *       confirming the change; median of 20 after 5 warm-ups, the pod flipping in and out of a policy's selector.</li>
 * </ul>
 * <pre>deploy/bench.sh k8s</pre>
 */
public final class KubernetesBench {
  private static final long DPID = 0x5c00000000000001L;

  private KubernetesBench() { }

  public static void main(String[] args) throws Exception {
    int namespaces = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    Ovs.ensureRunning();
    Path dir = Files.createTempDirectory("sluice-k8s-bench");
    // the API server in a JVM of its own, loaded (and warmed up) before the clock starts; at most 15 min in all
    try (MockApiProcess api = MockApiProcess.start(namespaces, Duration.ofMinutes(10), Duration.ofMinutes(15));
         KubernetesClient kc = new KubernetesClientBuilder().withConfig(new ConfigBuilder().withMasterUrl(api.url())
             .build()).build();
         Ovs ovs = new Ovs()) {
      System.err.printf(Locale.ROOT, "k8s bench: API server process %d at %s: %d namespaces, %d pods, %d policies, "
              + "%d services created in %.1f s%n", api.pid(), api.url(), namespaces, namespaces * 10, namespaces,
          namespaces * 2, api.populateSeconds());
      long baseline = heapAfterGc();
      int port = SluiceProcess.freePort();
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", port),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(5), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of(), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      ovs.bridge("k8s", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", port);
      com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
          ManagementFactory.getOperatingSystemMXBean();
      long cpuStart = os.getProcessCpuTime();
      java.util.Map<String, Long> threadCpuStart = threadCpu();
      long start = System.nanoTime();
      java.time.Instant startedAt = java.time.Instant.now();
      try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        // the bridge's pods, as OVSDB would bind them (applied before the informers can have listed)
        List<ModelEvent> bindings = new ArrayList<>();
        for (int n = 0; n < Math.min(10, namespaces); n++) {
          for (int p = 0; p < 10; p++) {
            bindings.add(new ModelEvent.PortBound(new PortBinding(new ObjectRef("ns-" + n, "pod-" + p), DPID,
                n * 10 + p + 1, String.format("0a:58:0a:%02x:%02x:%02x", n >> 8, n & 0xff, p))));
          }
        }
        rt.model().apply(bindings);
        long listed = -1;
        long modelled = -1;
        while (!(modelled >= 0 && realized(rt))) {
          long now = System.nanoTime();
          if (now - start > Duration.ofMinutes(3).toNanos()) {
            throw new IllegalStateException("not realized: " + status(rt) + ", " + rt.model().snapshot().pods().size());
          }
          if (listed < 0 && rt.informersListed()) {
            listed = now;
          }
          if (listed >= 0 && modelled < 0 && rt.model().snapshot().pods().size() == namespaces * 10) {
            modelled = now;
          }
          java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
        }
        long realizedAt = System.nanoTime();
        double cpu = (os.getProcessCpuTime() - cpuStart) / 1e9;
        java.util.Map<String, Long> threadCpuEnd = threadCpu();
        double scale = 1000.0 / namespaces;
        double startup = (realizedAt - start) / 1e9;
        double lists = (listed - start) / 1e9;
        double toModel = (modelled - listed) / 1e9;
        double toBarrier = (realizedAt - listed) / 1e9;
        SwitchStatus st = status(rt);
        System.err.printf(Locale.ROOT, "k8s bench: started at %s; every informer listed after %.2f s; model holding "
            + "them %.2f s later; first generation realized %.2f s after the lists (%.2f s in all, %.2f s of CPU in this "
            + "JVM): %d flows, %d groups%n", startedAt, lists, toModel, toBarrier, startup, cpu, st.flows(),
            st.groups());
        System.err.println("k8s bench: CPU seconds of the start-up by thread kind: " + cpuByKind(threadCpuStart,
            threadCpuEnd));
        long heap = heapAfterGc() - baseline;

        List<Double> millis = new ArrayList<>();
        List<Double> apiMillis = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
          String app = i % 2 == 0 ? "a9" : "a0"; // a0 is selected by ns-0's policy, a9 by none
          long gen = rt.model().generation();
          long t = System.nanoTime();
          // one merge patch, as `kubectl label --overwrite` sends (no read first)
          kc.pods().inNamespace("ns-0").withName("pod-5").patch(
              io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
              "{\"metadata\":{\"labels\":{\"app\":\"" + app + "\"}}}");
          double patchMs = (System.nanoTime() - t) / 1e6;
          while (!(rt.model().generation() > gen && realized(rt))) {
            if (System.nanoTime() - t > Duration.ofSeconds(10).toNanos()) {
              throw new IllegalStateException("label change not realized: " + status(rt));
            }
            java.util.concurrent.locks.LockSupport.parkNanos(50_000);
          }
          if (i >= 5) {
            millis.add((System.nanoTime() - t) / 1e6);
            apiMillis.add(patchMs);
          }
          Thread.sleep(20);
        }
        Collections.sort(millis);
        Collections.sort(apiMillis);
        System.err.printf(Locale.ROOT, "k8s bench: label change ms min %.2f median %.2f max %.2f (the patch request "
                + "alone, answered by the mock API server process: median %.2f)%n", millis.get(0),
            millis.get(millis.size() / 2), millis.get(millis.size() - 1), apiMillis.get(apiMillis.size() / 2));
        System.out.printf(Locale.ROOT, "BENCH k8s.startup_10k_pods_s %.3f s%n", startup * scale);
        System.out.printf(Locale.ROOT, "BENCH k8s.startup_10k_pods.lists_s %.3f s%n", lists * scale);
        System.out.printf(Locale.ROOT, "BENCH k8s.startup_10k_pods.to_model_s %.3f s%n", toModel * scale);
        System.out.printf(Locale.ROOT, "BENCH k8s.startup_10k_pods.to_first_barrier_s %.3f s%n", toBarrier * scale);
        System.out.printf(Locale.ROOT, "BENCH k8s.startup_10k_pods.cpu_s %.3f s%n", cpu * scale);
        System.out.printf(Locale.ROOT, "BENCH k8s.heap_per_10k_pods_mb %.1f MB%n", heap / 1048576.0 * scale);
        System.out.printf(Locale.ROOT, "BENCH k8s.label_change_to_confirmed_ms %.2f ms%n", millis.get(millis.size() / 2));
      }
    }
  }

  /** CPU clock ticks of each of this JVM's threads (Java, compiler, GC threads alike) by id, from /proc. */
  private static java.util.Map<String, Long> threadCpu() {
    java.util.Map<String, Long> out = new java.util.HashMap<>();
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path t : tasks.toList()) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          out.put(t.getFileName() + " " + comm, Long.parseLong(f[11]) + Long.parseLong(f[12]));
        } catch (java.io.IOException | RuntimeException e) {
          // the thread ended meanwhile
        }
      }
    } catch (java.io.IOException e) {
      // no /proc: no breakdown
    }
    return out;
  }

  /** The CPU seconds spent between two {@link #threadCpu} readings, summed by thread name with digits dropped. */
  private static String cpuByKind(java.util.Map<String, Long> before, java.util.Map<String, Long> after) {
    java.util.Map<String, Double> kinds = new java.util.TreeMap<>();
    after.forEach((k, v) -> kinds.merge(k.substring(k.indexOf(' ') + 1).replaceAll("[0-9]+", "N").trim(),
        (v - before.getOrDefault(k, 0L)) / 100.0, Double::sum));
    return kinds.entrySet().stream().filter(e -> e.getValue() >= 0.05)
        .sorted(java.util.Map.Entry.<String, Double>comparingByValue().reversed())
        .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), e.getValue())).toList().toString();
  }

  private static long heapAfterGc() throws InterruptedException {
    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(200);
    }
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static SwitchStatus status(SluiceRuntime rt) {
    String name = DatapathId.of(DPID).toString();
    return rt.switches().statuses().stream().filter(s -> s.datapathId().equals(name)).findFirst().orElse(null);
  }

  private static boolean realized(SluiceRuntime rt) {
    SwitchStatus s = status(rt);
    return s != null && s.connected() && s.realizedGeneration() == rt.model().generation();
  }
}
