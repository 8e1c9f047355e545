package io.sluice.controller.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.controller.audit.AuditLog;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The audit log on one real OVS bridge (issue 13):
 * <ul>
 *   <li>{@code audit.events_per_s}: denied UDP packets (each to another port: another connection attempt, another
 *       entry) sent at {@value #RATE}/s (under the audit meter's 10,000/s) for {@value #SECONDS} s from one pod to an isolated one; the packets the
 *       entries of the {@code --audit-log} file account for (their counts), per second of sending. Beside it
 *       {@code audit.lost}: what the switch's isolation flow counted, less what the audit meter dropped (the switch's
 *       meter stats), less what the log accounts for: 0 means nothing was lost but what the meter dropped.</li>
 *   <li>{@code audit.datapath_ratio}: TCP connections per second from a client pod to a server pod under a policy
 *       that allows them, with every allowed connection logged ({@code sluice.io/log: "true"}, the audit-all case
 *       for that pod) ÷ without, measured alternately in one run, twice each.</li>
 * </ul>
 * <pre>deploy/bench.sh audit</pre>
 */
public final class AuditBench {
  static final int RATE = 9000;
  static final int SECONDS = 5;
  private static final ObjectMapper JSON = new ObjectMapper();

  private AuditBench() { }

  public static void main(String[] args) throws Exception {
    Path dir = Files.createTempDirectory("sluice-audit-bench");
    Path manifests = Files.createDirectories(dir.resolve("m"));
    Path log = dir.resolve("audit.log");
    writeManifests(manifests, false);
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, manifests, List.of("unix:/var/run/openvswitch/db.sock"),
        null).withAudit(AuditLog.Options.defaults(log));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("ab", 0x7e75, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "src", "10.75.0.1/24", "0a:58:0a:4b:00:01", "ab", "src");
      ovs.host(br, "dst", "10.75.0.2/24", "0a:58:0a:4b:00:02", "ab", "dst");
      awaitRealized(rt, -1);
      Sh.run("ovs-appctl", "revalidator/purge");

      // ---- events per second: denied UDP, a new destination port each packet
      long flowBefore = isolationPackets(ovs, br);
      long meterBefore = meterDropped(br);
      Sh.Result sent = ovs.inHost("src", 60, "python3", "-c", String.join("\n",
          "import socket, time",
          "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
          "rate, secs = " + RATE + ", " + SECONDS,
          "n = 0; t0 = time.monotonic()",
          "while n < rate * secs:",
          "    due = t0 + n / rate",
          "    now = time.monotonic()",
          "    if now < due: time.sleep(due - now)",
          "    s.sendto(b'x' * 18, ('10.75.0.2', 10000 + n % 50000)); n += 1",
          "print(n, time.monotonic() - t0)"));
      String[] sentParts = sent.out().strip().split("\\s+");
      long packets = Long.parseLong(sentParts[0]);
      double secs = Double.parseDouble(sentParts[1]);
      Thread.sleep(2500); // merge window and writer
      long switchSaw = isolationPackets(ovs, br) - flowBefore;
      long meterDropped = meterDropped(br) - meterBefore;
      long logged = 0;
      for (String l : Files.readAllLines(log)) {
        JsonNode e = JSON.readTree(l);
        if ("deny".equals(e.path("verdict").asText()) && "UDP".equals(e.path("protocol").asText())
            && "src".equals(e.path("source").path("pod").asText())) {
          logged += e.path("count").asLong();
        }
      }
      System.err.printf(Locale.ROOT, "audit bench: %d UDP packets sent in %.2f s; the isolation flow counted %d, the "
          + "audit meter dropped %d, the log accounts for %d%n", packets, secs, switchSaw, meterDropped, logged);
      System.out.printf(Locale.ROOT, "BENCH audit.events_per_s %.0f events/s%n", logged / secs);
      System.out.printf(Locale.ROOT, "BENCH audit.lost %d events%n", switchSaw - meterDropped - logged);
      System.out.printf(Locale.ROOT, "BENCH audit.meter_dropped %d events%n", meterDropped);

      // ---- TCP connection rate, logging off and on, alternately
      Process server = new ProcessBuilder("ip", "netns", "exec", ovs.name("dst"), "python3", "-c", String.join("\n",
          "import socket",
          "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
          "s.bind(('10.75.0.2', 8080)); s.listen(1024)",
          "while True:",
          "    c, _ = s.accept(); c.close()")).redirectErrorStream(true).start();
      try {
        double[] off = new double[2];
        double[] on = new double[2];
        boolean current = false;
        for (int round = 0; round < 2; round++) {
          for (boolean logging : new boolean[] {false, true}) {
            long gen = rt.model().generation();
            if (logging != current) {
              writeManifests(manifests, logging);
              current = logging;
            } else {
              gen = -1; // nothing to change: the current generation is the one to wait for
            }
            awaitRealized(rt, gen);
            Sh.run("ovs-appctl", "revalidator/purge");
            double rate = connectionRate(ovs);
            (logging ? on : off)[round] = rate;
            System.err.printf(Locale.ROOT, "audit bench: round %d, logging %s: %.0f TCP connections/s%n", round,
                logging ? "on" : "off", rate);
          }
        }
        double ratio = (on[0] + on[1]) / (off[0] + off[1]);
        System.out.printf(Locale.ROOT, "BENCH audit.datapath_ratio %.3f ratio%n", ratio);
      } finally {
        server.destroyForcibly();
      }
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Connections a client opens and closes to dst:8080 in 3 s, per second. */
  private static double connectionRate(Ovs ovs) {
    Sh.Result r = ovs.inHost("src", 30, "python3", "-c", String.join("\n",
        "import socket, time",
        "n = 0; t0 = time.monotonic()",
        "while time.monotonic() - t0 < 3:",
        "    c = socket.create_connection(('10.75.0.2', 8080), timeout=2)",
        "    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00')",
        "    c.close(); n += 1",
        "print(n / (time.monotonic() - t0))"));
    if (r.code() != 0) {
      throw new IllegalStateException("client failed: " + r.out() + r.err());
    }
    return Double.parseDouble(r.out().strip());
  }

  private static void writeManifests(Path dir, boolean log) throws Exception {
    Path tmp = dir.resolve(".cluster.yaml.tmp");
    Files.writeString(tmp, String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: ab}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: src, namespace: ab, labels: {app: src}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.75.0.1}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: dst, namespace: ab, labels: {app: dst}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: 10.75.0.2}", "---",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy",
        "metadata: {name: dst-tcp, namespace: ab" + (log ? ", annotations: {sluice.io/log: \"true\"}" : "") + "}",
        "spec:", "  podSelector: {matchLabels: {app: dst}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: src}}}]", "    ports: [{protocol: TCP, port: 8080}]", ""));
    Files.move(tmp, dir.resolve("cluster.yaml"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  private static long isolationPackets(Ovs ovs, String br) {
    Pattern n = Pattern.compile("n_packets=(\\d+)");
    long sum = 0;
    for (String f : ovs.flowsWithStats(br)) {
      Matcher m = n.matcher(f);
      if (f.contains("cookie=0x5c05") && m.find()) {
        sum += Long.parseLong(m.group(1));
      }
    }
    return sum;
  }

  /** Packets the audit deny meter's band dropped. */
  private static long meterDropped(String br) {
    String out = Sh.run("ovs-ofctl", "-O", "OpenFlow15", "meter-stats", br,
        "meter=" + io.sluice.renderer.pipeline.PipelineProfile.AUDIT_DENY_METER.id());
    Matcher m = Pattern.compile("0: packet_count:(\\d+)").matcher(out);
    return m.find() ? Long.parseLong(m.group(1)) : 0;
  }

  private static void awaitRealized(SluiceRuntime rt, long after) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      long gen = rt.model().generation();
      long bound = rt.model().snapshot().bindings().keySet().stream().filter(r -> r.namespace().equals("ab")).count();
      if (gen > after && bound == 2 && !st.isEmpty()
          && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == gen)) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new IllegalStateException("not realized: " + rt.switches().statuses());
  }
}
