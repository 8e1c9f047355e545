package io.sluice.controller.bench;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.watcher.testing.MockApiServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;

/**
 * fabric8's mock API server in CRUD mode ({@link MockApiServer}) in a JVM of its own, holding the objects
 * {@link #populate} makes, so that serving the lists neither shares the heap, the collector nor the JIT of the
 * process measured. A real API server answers lists from its watch cache in a long-running, warmed-up process; so
 * once loaded, this one lists every kind a few times (warming up its serving path) before it says it is ready.
 *
 * <p>The child prints {@code READY <url> <seconds to populate>} on its standard output when loaded, then serves until
 * its standard input is closed (the parent closing it, or the parent dying), or at the latest after {@code maxLife}.
 * The parent side ({@link #start}) kills it on {@link #close}, and from a shutdown hook if the parent exits first.
 */
public final class MockApiProcess implements AutoCloseable {
  private final Process process;
  private final Thread hook;
  private final String url;
  private final double populateSeconds;

  private MockApiProcess(Process process, Thread hook, String url, double populateSeconds) {
    this.process = process;
    this.hook = hook;
    this.url = url;
    this.populateSeconds = populateSeconds;
  }

  /**
   * Starts the child JVM (this JVM's java and class path) and waits until it is loaded and warmed up.
   *
   * @throws IllegalStateException when it does not say it is ready within {@code loadTimeout}, or dies first
   */
  public static MockApiProcess start(int namespaces, Duration loadTimeout, Duration maxLife) throws IOException,
      InterruptedException {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx2g", "-XX:+UseParallelGC", "-cp", System.getProperty("java.class.path"), MockApiProcess.class.getName(),
        Integer.toString(namespaces), Long.toString(maxLife.toSeconds()));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    Thread hook = new Thread(p::destroyForcibly, "mock-api-process-kill");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      SynchronousQueue<String> ready = new SynchronousQueue<>();
      Thread reader = new Thread(() -> {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(),
            StandardCharsets.UTF_8))) {
          String line;
          boolean told = false;
          while ((line = r.readLine()) != null) {
            if (!told && line.startsWith("READY ")) {
              told = true;
              ready.offer(line, 1, TimeUnit.MINUTES);
            }
          }
        } catch (IOException | InterruptedException e) {
          // the child is gone or the parent stopped waiting
        }
      }, "mock-api-process-out");
      reader.setDaemon(true);
      reader.start();
      long deadline = System.nanoTime() + loadTimeout.toNanos();
      String line = null;
      while (line == null && System.nanoTime() < deadline) {
        line = ready.poll(200, TimeUnit.MILLISECONDS);
        if (line == null && !p.isAlive()) {
          throw new IllegalStateException("mock API server process exited with " + p.exitValue() + " before ready");
        }
      }
      if (line == null) {
        throw new IllegalStateException("mock API server process not ready within " + loadTimeout);
      }
      String[] f = line.split(" ");
      return new MockApiProcess(p, hook, f[1], Double.parseDouble(f[2]));
    } catch (RuntimeException | InterruptedException | Error e) {
      kill(p, hook);
      throw e;
    }
  }

  public String url() {
    return url;
  }

  public long pid() {
    return process.pid();
  }

  public double populateSeconds() {
    return populateSeconds;
  }

  /** A kubeconfig file for the child's server. */
  public Path kubeconfig(Path dir) {
    return MockApiServer.kubeconfig(dir, url);
  }

  /** Closes the child's standard input (it stops), then kills it if it has not exited within 5 s. */
  @Override
  public void close() {
    try {
      process.getOutputStream().close();
    } catch (IOException e) {
      // already gone
    }
    try {
      process.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    kill(process, hook);
  }

  private static void kill(Process p, Thread hook) {
    p.destroyForcibly();
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // shutting down: the hook runs anyway
    }
  }

  /** The child: {@code namespaces maxLifeSeconds}. */
  public static void main(String[] args) throws Exception {
    int namespaces = Integer.parseInt(args[0]);
    long maxLife = Long.parseLong(args[1]);
    Thread limit = new Thread(() -> {
      try {
        Thread.sleep(TimeUnit.SECONDS.toMillis(maxLife));
        System.err.println("mock API server process: " + maxLife + " s passed, exiting");
        Runtime.getRuntime().halt(3);
      } catch (InterruptedException e) {
        // exiting anyway
      }
    }, "mock-api-max-life");
    limit.setDaemon(true);
    limit.start();
    // a watch from the list's version gets only what changed since, as from a real API server (not every object again)
    MockApiServer api = new MockApiServer().watchesFromTheirVersion();
    double populated;
    try (KubernetesClient kc = api.client()) {
      long t0 = System.nanoTime();
      populate(kc, namespaces);
      populated = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      for (int i = 0; i < 3; i++) { // warm up what the informers' lists take
        kc.namespaces().list();
        kc.nodes().list();
        kc.pods().inAnyNamespace().list();
        kc.services().inAnyNamespace().list();
        kc.discovery().v1().endpointSlices().inAnyNamespace().list();
        kc.network().v1().networkPolicies().inAnyNamespace().list();
      }
      System.err.printf(Locale.ROOT, "mock API server process: %d namespaces, %d pods, %d policies, %d services "
          + "created in %.1f s, listed 3 times in %.1f s%n", namespaces, namespaces * 10, namespaces, namespaces * 2,
          populated, (System.nanoTime() - t1) / 1e9);
    }
    System.out.printf(Locale.ROOT, "READY %s %.3f%n", api.url(), populated);
    System.out.flush();
    // serve until the parent closes our standard input (or dies)
    while (System.in.read() >= 0) {
      // nothing is sent
    }
    try {
      api.close();
    } finally {
      Runtime.getRuntime().halt(0); // the mock's non-daemon threads must not keep this JVM
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
}
