package io.sluice.controller.bench;

import io.sluice.controller.cli.SluiceCli;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;

/**
 * {@code sluice trace} against a running Sluice on one real OVS bridge (issue 13): {@code trace.latency_ms}, the
 * median wall time of one trace (the controller's /api/v1/trace, ovs-appctl dpif/show and ofproto/trace, parsing, the
 * cookie names, the report), in this JVM: a real {@code sluice trace} adds the JVM's start-up. The cluster has
 * {@value #PODS} pods in the model ({@value #GROUPS} label groups) and {@value #POLICIES} policies selecting the
 * traced destination, each admitting one group on its own port, so the switch holds thousands of flows (printed);
 * allowed and denied connections are traced alternately, {@value #RUNS} times after {@value #WARMUP} warm-up runs.
 * {@code trace.process_ms}: the median of {@value #PROCESS_RUNS} runs of the command in a new JVM (start-up included).
 * <pre>deploy/bench.sh trace</pre>
 */
public final class TraceBench {
  static final int PODS = 3000;
  static final int GROUPS = 100;
  static final int POLICIES = 100;
  static final int WARMUP = 5;
  static final int RUNS = 30;
  static final int PROCESS_RUNS = 5;

  private TraceBench() { }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("sluice-trace-bench");
    StringBuilder y = new StringBuilder("apiVersion: v1\nkind: Namespace\nmetadata: {name: tb}\n---\n");
    pod(y, "client", "10.76.0.1", "g7");
    pod(y, "db", "10.76.0.2", "db");
    for (int i = 0; i < PODS; i++) {
      pod(y, "p" + i, "10.77." + (i / 250) + "." + (i % 250 + 1), "g" + (i % GROUPS));
    }
    for (int k = 0; k < POLICIES; k++) {
      y.append("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db-g").append(k)
          .append(", namespace: tb}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress:\n")
          .append("  - from: [{podSelector: {matchLabels: {grp: g").append(k % GROUPS).append("}}}]\n")
          .append("    ports: [{port: ").append(5000 + k).append("}]\n---\n");
    }
    Files.writeString(dir.resolve("cluster.yaml"), y);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("tb", 0x7e76, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "cli", "10.76.0.1/16", "0a:58:0a:4c:00:01", "tb", "client");
      ovs.host(br, "db", "10.76.0.2/16", "0a:58:0a:4c:00:02", "tb", "db");
      SwitchStatus st = awaitRealized(rt);
      String api = "http://127.0.0.1:" + rt.httpPort();
      List<Double> ms = new ArrayList<>();
      for (int i = 0; i < WARMUP + RUNS; i++) {
        boolean allowed = i % 2 == 0;
        String port = Integer.toString(allowed ? 5007 : 5008);
        StringWriter out = new StringWriter();
        CommandLine cli = new CommandLine(new SluiceCli());
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(out));
        long t0 = System.nanoTime();
        int code = cli.execute("trace", "--api", api, "--from", "tb/client", "--to", "tb/db", "--port", port);
        double took = (System.nanoTime() - t0) / 1e6;
        if (code != 0 || !out.toString().contains(allowed ? "AGREE: allowed" : "AGREE: denied")) {
          throw new AssertionError("trace " + port + " exited " + code + ":\n" + out);
        }
        if (i >= WARMUP) {
          ms.add(took);
        }
      }
      double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      System.err.printf(Locale.ROOT, "trace bench: %d flows on the switch, %d pods, %d policies; %d traces: min %.1f, "
              + "median %.1f, max %.1f ms%n", st.flows(), PODS + 2, POLICIES, sorted.length, sorted[0],
          median(sorted), sorted[sorted.length - 1]);
      System.out.printf(Locale.ROOT, "BENCH trace.latency_ms %.1f ms%n", median(sorted));

      // the same as a command, JVM start-up included (this JVM's class path and options, no warm-up)
      String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<Double> process = new ArrayList<>();
      for (int i = 0; i < PROCESS_RUNS; i++) {
        List<String> cmd = new ArrayList<>(List.of(javaBin));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
            .filter(a -> a.startsWith("-XX:") || a.startsWith("-Xshare")).toList());
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), SluiceCli.class.getName(), "trace", "--api",
            api, "--from", "tb/client", "--to", "tb/db", "--port", "5007"));
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String text = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        int code = p.waitFor();
        double took = (System.nanoTime() - t0) / 1e6;
        if (code != 0 || !text.contains("AGREE: allowed")) {
          throw new AssertionError("sluice trace as a process exited " + code + ":\n" + text);
        }
        process.add(took);
      }
      double[] ps = process.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      System.out.printf(Locale.ROOT, "BENCH trace.process_ms %.1f ms%n", median(ps));
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static void pod(StringBuilder y, String name, String ip, String group) {
    String label = group.equals("db") ? "app: db" : "grp: " + group;
    y.append("apiVersion: v1\nkind: Pod\nmetadata: {name: ").append(name).append(", namespace: tb, labels: {")
        .append(label).append("}}\nspec: {containers: [{name: c, image: x}]}\nstatus: {podIP: ").append(ip)
        .append("}\n---\n");
  }

  private static SwitchStatus awaitRealized(SluiceRuntime rt) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long gen = rt.model().generation();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("tb")).count();
      if (bound == 2 && st.size() == 1 && st.get(0).connected() && st.get(0).realizedGeneration() == gen) {
        return st.get(0);
      }
      Ovs.sleep(50);
    }
    throw new AssertionError("not realized: " + rt.switches().statuses());
  }
}
