package io.sluice.watcher.bench;

import io.sluice.model.ClusterModel;
import io.sluice.model.ObjectRef;
import io.sluice.model.Snapshot;
import io.sluice.watcher.manifest.ManifestSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Loads 25,000 namespaces, 100,000 pods and 75,000 NetworkPolicies from one file per namespace, then times label
 * changes end to end (file write → model generation), then loads everything once more in the same JVM (the warm
 * figure: the difference to the first is JIT warm-up and class loading). Prints four BENCH lines. Run with a 2 GB heap:
 * {@code java -Xmx2g -cp <classpath> io.sluice.watcher.bench.ManifestBench [namespaces]}.
 */
public final class ManifestBench {
  static final int NAMESPACES = 25_000;
  static final int PODS_PER_NS = 4;
  private static final int POLICIES_PER_NS = 3;

  public static void main(String[] args) throws Exception {
    int namespaces = args.length > 0 ? Integer.parseInt(args[0]) : NAMESPACES;
    Path dir = Files.createTempDirectory("sluice-manifest-bench");
    try {
      generate(dir, namespaces);
      run(dir, namespaces);
    } finally {
      deleteTree(dir);
    }
  }

  private static void run(Path dir, int namespaces) throws Exception {
    ClusterModel model = new ClusterModel(0);
    BlockingQueue<Snapshot> generations = new ArrayBlockingQueue<>(1024);
    ManifestSource source = new ManifestSource(dir);
    var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    long cpu0 = os.getProcessCpuTime();
    java.util.Map<String, Double> threads0 = threadCpu();
    long t0 = System.nanoTime();
    source.start(model::apply);
    double loadSeconds = (System.nanoTime() - t0) / 1e9;
    // Not a BENCH line: CPU seconds spent, to tell a slow load from a machine shared with other work.
    System.err.printf(Locale.ROOT, "info: load used %.1f s of CPU on %d processors%n",
        (os.getProcessCpuTime() - cpu0) / 1e9, Runtime.getRuntime().availableProcessors());
    java.util.Map<String, Double> split = threadCpu();
    threads0.forEach((k, v) -> split.merge(k, -v, Double::sum));
    StringBuilder b = new StringBuilder("info: load CPU by thread group:");
    split.forEach((k, v) -> b.append(String.format(Locale.ROOT, " %s %.1f s;", k, v)));
    System.err.println(b);
    Snapshot s = model.snapshot();
    check(s.pods().size() == namespaces * PODS_PER_NS, "pods: " + s.pods().size());
    check(s.namespaces().size() == namespaces, "namespaces: " + s.namespaces().size());
    check(s.networkPolicies().size() == namespaces * POLICIES_PER_NS, "policies: " + s.networkPolicies().size());
    check(source.errors().isEmpty(), "errors: " + source.errors());
    System.out.printf(Locale.ROOT, "BENCH manifests.load_100k_pods_s %.2f s%n", loadSeconds);

    for (int i = 0; i < 3; i++) {
      System.gc();
      Thread.sleep(100);
    }
    Runtime rt = Runtime.getRuntime();
    System.out.printf(Locale.ROOT, "BENCH manifests.heap_after_load_mb %d MB%n",
        (rt.totalMemory() - rt.freeMemory()) / (1024 * 1024));

    model.subscribe(generations::add);
    List<Double> latencies = new ArrayList<>();
    ObjectRef pod = new ObjectRef("ns-00042", "pod-00042-0");
    for (int round = 1; round <= 21; round++) {
      Path file = dir.resolve(shard(42)).resolve("ns-00042.yaml");
      String text = Files.readString(file);
      String changed = text.replaceFirst("version: \"[^\"]*\"", "version: \"v" + round + "\"");
      generations.clear();
      long start = System.nanoTime();
      Files.writeString(file, changed);
      while (true) {
        Snapshot next = generations.poll(5, TimeUnit.SECONDS);
        check(next != null, "no generation within 5 s after a label change");
        if (("v" + round).equals(next.pods().get(pod).labels().get("version"))) {
          break;
        }
      }
      double ms = (System.nanoTime() - start) / 1e6;
      if (round > 1) {
        latencies.add(ms); // round 1 warms up the change path
      }
      Thread.sleep(150);
    }
    Collections.sort(latencies);
    System.out.printf(Locale.ROOT, "BENCH manifests.label_change_to_event_ms %.1f ms%n",
        latencies.get(latencies.size() / 2));
    source.stop();

    // The same full load again in this JVM (new source, new model, files read and parsed again): the code is now
    // compiled, so the difference to the first figure is the cold start (JIT warm-up, class loading).
    model = null;
    source = null;
    s = null;
    System.gc();
    ClusterModel warmModel = new ClusterModel(0);
    ManifestSource warm = new ManifestSource(dir);
    long w0 = System.nanoTime();
    warm.start(warmModel::apply);
    double warmSeconds = (System.nanoTime() - w0) / 1e9;
    check(warmModel.snapshot().pods().size() == namespaces * PODS_PER_NS, "warm pods");
    check(warm.errors().isEmpty(), "warm errors: " + warm.errors());
    System.out.printf(Locale.ROOT, "BENCH manifests.load_100k_pods_warm_s %.2f s%n", warmSeconds);
    warm.stop();
  }

  /**
   * CPU seconds per group of this process's threads (parsers, JIT compiler, GC, the rest), read from /proc; empty
   * where there is no /proc.
   */
  private static java.util.Map<String, Double> threadCpu() {
    java.util.Map<String, Double> out = new java.util.TreeMap<>();
    Path tasks = Path.of("/proc/self/task");
    if (!Files.isDirectory(tasks)) {
      return out;
    }
    double tick = 100.0; // USER_HZ on Linux
    try (var dirs = Files.list(tasks)) {
      for (Path t : (Iterable<Path>) dirs::iterator) {
        try {
          String stat = Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / tick;
          String group = name.startsWith("sluice-manifest") ? "parser" : name.startsWith("C2 ") ? "jit-c2"
              : name.startsWith("C1 ") ? "jit-c1" : name.startsWith("GC ") || name.startsWith("G1 ")
              || name.startsWith("VM Thread") ? "gc+vm" : name.equals("main") ? "main" : "other";
          out.merge(group, cpu, Double::sum);
        } catch (IOException | RuntimeException e) {
          // a thread that ended meanwhile
        }
      }
    } catch (IOException e) {
      return out;
    }
    return out;
  }

  private static void check(boolean ok, String what) {
    if (!ok) {
      throw new IllegalStateException("bench check failed: " + what);
    }
  }

  private static String shard(int ns) {
    return String.format(Locale.ROOT, "team-%02d", ns % 50);
  }

  /** One file per namespace, in 50 team directories: the namespace, its pods, its policies. */
  static void generate(Path dir, int namespaces) throws IOException {
    for (int n = 0; n < namespaces; n++) {
      String ns = String.format(Locale.ROOT, "ns-%05d", n);
      StringBuilder b = new StringBuilder(6_000);
      b.append("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ").append(ns)
          .append("\n  labels:\n    team: ").append(shard(n)).append("\n    env: ").append(n % 3 == 0 ? "prod" : "dev")
          .append('\n');
      for (int p = 0; p < PODS_PER_NS; p++) {
        String app = p < 2 ? "web" : "db";
        b.append("---\napiVersion: v1\nkind: Pod\nmetadata:\n  namespace: ").append(ns)
            .append("\n  name: pod-").append(String.format(Locale.ROOT, "%05d", n)).append('-').append(p)
            .append("\n  labels:\n    app: ").append(app).append("\n    version: \"v0\"\n    pod-template-hash: 7d4b9c")
            .append(p).append("\n  annotations:\n    owner: ").append(shard(n)).append("@example.com\n")
            .append("spec:\n  nodeName: node-").append(n % 200).append("\n  containers:\n  - name: ").append(app)
            .append("\n    image: registry.example.com/").append(app).append(":1.2.3\n    ports:\n")
            .append("    - {name: http, containerPort: 8080, protocol: TCP}\n")
            .append("    - {name: metrics, containerPort: 9090}\n")
            .append("    resources:\n      requests: {cpu: 100m, memory: 128Mi}\n")
            .append("status:\n  phase: Running\n  podIP: ").append(ip(n, p)).append("\n  podIPs:\n  - ip: ")
            .append(ip(n, p)).append('\n');
      }
      b.append("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ").append(ns)
          .append("\n  name: default-deny\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n");
      b.append("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ").append(ns)
          .append("\n  name: web-from-prod\nspec:\n  podSelector:\n    matchLabels: {app: web}\n  ingress:\n")
          .append("  - from:\n    - namespaceSelector:\n        matchExpressions:\n")
          .append("        - {key: env, operator: In, values: [prod]}\n      podSelector:\n        matchLabels: {app: web}\n")
          .append("    - ipBlock:\n        cidr: 10.0.0.0/8\n        except: [10.1.0.0/16, 10.2.0.0/16]\n")
          .append("    ports:\n    - {port: http}\n    - {protocol: TCP, port: 8000, endPort: 8100}\n");
      b.append("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  namespace: ").append(ns)
          .append("\n  name: db-egress\nspec:\n  podSelector:\n    matchLabels: {app: db}\n  egress:\n")
          .append("  - to:\n    - podSelector:\n        matchExpressions:\n        - {key: app, operator: Exists}\n")
          .append("    ports:\n    - {protocol: UDP, port: 53}\n");
      Path file = dir.resolve(shard(n)).resolve(ns + ".yaml");
      Files.createDirectories(file.getParent());
      Files.writeString(file, b);
    }
  }

  private static String ip(int n, int p) {
    int host = n * PODS_PER_NS + p + 1;
    return "10." + (64 + (host >> 16)) + "." + ((host >> 8) & 0xff) + "." + (host & 0xff);
  }

  private static void deleteTree(Path p) throws IOException {
    try (var paths = Files.walk(p)) {
      for (Path x : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
