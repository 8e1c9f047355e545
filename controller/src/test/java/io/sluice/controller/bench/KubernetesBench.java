package io.sluice.controller.bench;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.SluiceProcess;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.watcher.testing.MockApiServer;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * Sluice against an API server (fabric8's mock in CRUD mode, in this JVM) holding 10,000 pods in 1,000 namespaces,
 * 1,000 NetworkPolicies and 2,000 Services with their EndpointSlices; one real OVS bridge holds the pods of the first
 * ten namespaces (bindings applied to the model directly, as OVSDB would report them).
 * <ul>
 *   <li>{@code k8s.startup_10k_pods_s}: from {@code SluiceRuntime.start} (informers start) to the bridge's barrier
 *       confirming the first generation holding every object.</li>
 *   <li>{@code k8s.heap_per_10k_pods_mb}: heap after full GCs with Sluice running, minus the heap before it started
 *       (the mock server's own objects are in both), per 10,000 pods.</li>
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
    try (MockApiServer api = new MockApiServer(); KubernetesClient kc = api.client(); Ovs ovs = new Ovs()) {
      long t0 = System.nanoTime();
      populate(kc, namespaces);
      System.err.printf(Locale.ROOT, "k8s bench: %d namespaces, %d pods, %d policies, %d services created in %.1f s%n",
          namespaces, namespaces * 10, namespaces, namespaces * 2, (System.nanoTime() - t0) / 1e9);
      long baseline = heapAfterGc();
      int port = SluiceProcess.freePort();
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", port),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(5), RuntimeConfig.Role.EQUAL, 0, 2, null,
          List.of(), null, false, new RuntimeConfig.Kubernetes(api.kubeconfig(dir)));
      ovs.bridge("k8s", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", port);
      long start = System.nanoTime();
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
        double listed = -1;
        while (!(rt.model().snapshot().pods().size() == namespaces * 10 && realized(rt))) {
          if (System.nanoTime() - start > Duration.ofMinutes(3).toNanos()) {
            throw new IllegalStateException("not realized: " + status(rt) + ", " + rt.model().snapshot().pods().size());
          }
          if (listed < 0 && rt.model().snapshot().pods().size() == namespaces * 10) {
            listed = (System.nanoTime() - start) / 1e9;
          }
          Thread.sleep(5);
        }
        double startup = (System.nanoTime() - start) / 1e9;
        SwitchStatus st = status(rt);
        System.err.printf(Locale.ROOT, "k8s bench: every informer listed after %.2f s; first generation realized after "
            + "%.2f s: %d flows, %d groups%n", listed, startup, st.flows(), st.groups());
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
                + "alone, answered by the mock API server in this JVM: median %.2f)%n", millis.get(0),
            millis.get(millis.size() / 2), millis.get(millis.size() - 1), apiMillis.get(apiMillis.size() / 2));
        System.out.printf(Locale.ROOT, "BENCH k8s.startup_10k_pods_s %.3f s%n", startup * 1000.0 / namespaces);
        System.out.printf(Locale.ROOT, "BENCH k8s.heap_per_10k_pods_mb %.1f MB%n",
            heap / 1048576.0 * 1000.0 / namespaces);
        System.out.printf(Locale.ROOT, "BENCH k8s.label_change_to_confirmed_ms %.2f ms%n", millis.get(millis.size() / 2));
      }
    }
  }

  /** 10 pods, 1 policy and 2 Services (with one EndpointSlice each) per namespace. */
  static void populate(KubernetesClient kc, int namespaces) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int n = 0; n < namespaces; n++) {
        int ns = n;
        done.add(pool.submit(() -> {
          String name = "ns-" + ns;
          List<HasMetadata> objects = new ArrayList<>();
          objects.add(new NamespaceBuilder().withNewMetadata().withName(name).addToLabels("team", "t" + ns % 50)
              .endMetadata().build());
          for (int p = 0; p < 10; p++) {
            String ip = String.format("10.%d.%d.%d", 100 + ns / 250, ns % 250, p + 10);
            objects.add(new PodBuilder().withNewMetadata().withNamespace(name).withName("pod-" + p)
                .addToLabels("app", "a" + p).addToAnnotations("note", "x".repeat(200)).endMetadata()
                .withNewSpec().withNodeName("node-" + ns % 100).addNewContainer().withName("c")
                .withImage("registry.local/app:1").addNewPort().withName("http").withContainerPort(8080).endPort()
                .addNewEnv().withName("A").withValue("b").endEnv().endContainer().endSpec()
                .withNewStatus().withPhase("Running").withPodIP(ip).addNewPodIP(ip).addNewCondition()
                .withType("Ready").withStatus("True").endCondition().endStatus().build());
          }
          objects.add(new NetworkPolicyBuilder().withNewMetadata().withNamespace(name).withName("allow")
              .endMetadata().withNewSpec().withNewPodSelector().addToMatchLabels("app", "a0").endPodSelector()
              .addNewIngress().addNewFrom().withNewPodSelector().addToMatchLabels("app", "a1").endPodSelector()
              .endFrom().addNewFrom().withNewNamespaceSelector().addToMatchLabels("team", "t" + (ns + 1) % 50)
              .endNamespaceSelector().endFrom().addNewPort().withPort(new IntOrString("http")).endPort()
              .endIngress().endSpec().build());
          for (int s = 0; s < 2; s++) {
            String svc = "svc-" + s;
            String cip = String.format("172.%d.%d.%d", 20 + ns / 250, ns % 250, s + 1);
            String epIp = String.format("10.%d.%d.%d", 100 + ns / 250, ns % 250, 2 + s + 10);
            objects.add(new ServiceBuilder().withNewMetadata().withNamespace(name).withName(svc).endMetadata()
                .withNewSpec().withClusterIP(cip).withClusterIPs(cip).addToSelector("app", "a" + (2 + s))
                .addNewPort().withName("http").withPort(80).withTargetPort(new IntOrString("http")).endPort()
                .endSpec().build());
            objects.add(new EndpointSliceBuilder().withNewMetadata().withNamespace(name).withName(svc + "-1")
                .addToLabels("kubernetes.io/service-name", svc).endMetadata().withAddressType("IPv4")
                .addNewEndpoint().withAddresses(epIp).withNewConditions().withReady(true).endConditions()
                .withNewTargetRef().withKind("Pod").withNamespace(name).withName("pod-" + (2 + s)).endTargetRef()
                .endEndpoint().addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort().build());
          }
          objects.forEach(o -> kc.resource(o).create());
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
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
