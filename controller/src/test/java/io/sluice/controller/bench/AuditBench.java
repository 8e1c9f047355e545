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
import java.util.Map;
import java.util.TreeMap;
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
 *   <li>{@code audit.datapath_ratio}: TCP connections per second from a client pod (four processes at once, so that
 *       the rate is the datapath's, not one client's round trip; {@code -Daudit.clients=N}) to a server pod under a
 *       policy that allows them, with every allowed connection logged ({@code sluice.io/log: "true"}, the audit-all case
 *       for that pod) ÷ without, measured in one run: the geometric mean of the ratios of ten pairs of 2 s rounds
 *       (off-on, then on-off, alternately; {@code -Daudit.rounds=N} pairs of {@code -Daudit.roundSeconds=S}), each
 *       round from an empty connection tracker, after one round with logging on, not measured
 *       ({@code -Daudit.warmup=false} leaves it out). The pairs' ratios and a 95% interval are printed beside it: on
 *       a 2-core machine one setting's rate wanders by a third within a minute. Beside it, CPU per logged event
 *       ({@code audit.jvm_cpu_us_per_event}, {@code audit.vswitchd_cpu_us_per_event}): what the rounds with logging
 *       used per connection beyond what those without used, over the PACKET_INs per connection the allow meter let
 *       through ({@code -Daudit.allowRate=N}: another {@code --audit-allow-rate}). ovs-vswitchd is the machine's, shared with whatever else runs there.</li>
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
        null).withAudit(allowRate(AuditLog.Options.defaults(log)));
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
        awaitListening(ovs, server);
        boolean current = false;
        if (Boolean.parseBoolean(System.getProperty("audit.warmup", "true"))) {
          // One round with logging on, not measured: until an allowed connection's PACKET_IN first arrives, the JIT
          // has compiled the audit path for denied ones only (the part above), and the first allowed one throws those
          // compilations away ("made not entrant", -XX:+PrintCompilation) and compiles them again, with the C2
          // thread busy for 0.2-1 s of CPU on the measured round. A running controller pays that once in its life.
          long gen = rt.model().generation();
          writeManifests(manifests, true);
          current = true;
          awaitRealized(rt, gen);
          Sh.run("ovs-appctl", "revalidator/purge");
          System.err.printf(Locale.ROOT, "audit bench: warm-up round, logging on: %.0f TCP connections (not measured)%n",
              connections(ovs, 3)[0]);
        }
        // rounds in pairs, off-on then on-off (ABBA), each pair's ratio of its two rounds: the machine's own drift
        // (connection rates of one setting wandered by a third over a minute, either way) weighs on both rounds of a
        // pair alike, and many short pairs average the rest out
        int pairs = Integer.getInteger("audit.rounds", 10);
        double roundSeconds = Double.parseDouble(System.getProperty("audit.roundSeconds", "2"));
        Round off = new Round();
        Round on = new Round();
        double[] logRatios = new double[pairs];
        for (int round = 0; round < pairs; round++) {
          double[] rates = new double[2];
          for (boolean logging : round % 2 == 0 ? new boolean[] {false, true} : new boolean[] {true, false}) {
            long gen = rt.model().generation();
            if (logging != current) {
              writeManifests(manifests, logging);
              current = logging;
            } else {
              gen = -1; // nothing to change: the current generation is the one to wait for
            }
            awaitRealized(rt, gen);
            // each round from an empty connection tracker: a round's thousands of closed connections linger in it
            // for half a minute, so without this each round starts from a different state
            Sh.run("ovs-appctl", "dpctl/flush-conntrack");
            Sh.run("ovs-appctl", "revalidator/purge");
            Usage before = Usage.now(br);
            long startMillis = System.currentTimeMillis();
            double[] conns = connections(ovs, roundSeconds);
            long endMillis = System.currentTimeMillis();
            Usage used = Usage.now(br).minus(before);
            (logging ? on : off).add(conns[0], conns[1], used);
            rates[logging ? 1 : 0] = conns[0] / conns[1];
            System.err.printf(Locale.ROOT, "audit bench: round %d, logging %s: %.0f TCP connections/s (%.0f in %.2f s;"
                + " %d sent to Sluice, %d dropped by the allow meter; CPU ms: Sluice's JVM %.0f, ovs-vswitchd %.0f %s;"
                + " load %s; from %d to %d ms)%n", round, logging ? "on" : "off", conns[0] / conns[1], conns[0], conns[1],
                used.packetIns(), used.meterDropped(), used.jvmNanos() / 1e6, used.vswitchdTicks() * 1e3 / HZ,
                used.vswitchdThreads(), loadAverage(), startMillis, endMillis);
            if (Boolean.getBoolean("audit.ovsStats")) {
              System.err.println("audit bench: ovs-vswitchd coverage counters, this round: " + used.coverage());
              System.err.println("audit bench: this JVM's threads' CPU ticks (u: user, s: system), this round: "
                  + used.jvmThreads());
            }
          }
          logRatios[round] = Math.log(rates[1] / rates[0]);
        }
        // the geometric mean of the pairs' ratios, and its 95% interval (Student's t over the pairs' log ratios)
        double mean = java.util.Arrays.stream(logRatios).average().orElseThrow();
        double sd = Math.sqrt(java.util.Arrays.stream(logRatios).map(x -> (x - mean) * (x - mean)).sum()
            / Math.max(1, pairs - 1));
        double half = studentT95(pairs - 1) * sd / Math.sqrt(pairs);
        System.out.printf(Locale.ROOT, "BENCH audit.datapath_ratio %.3f ratio%n", Math.exp(mean));
        System.err.printf(Locale.ROOT, "audit bench: the %d pairs' ratios %s; 95%% interval of their geometric mean "
            + "%.3f to %.3f; all rounds' rates, on / off: %.0f / %.0f connections/s (%.3f)%n", pairs,
            java.util.Arrays.stream(logRatios).mapToObj(x -> String.format(Locale.ROOT, "%.2f", Math.exp(x))).toList(),
            Math.exp(mean - half), Math.exp(mean + half), on.rate(), off.rate(), on.rate() / off.rate());
        // CPU per logged connection: what the logging rounds used per connection beyond what the rounds without
        // logging used per connection, over the PACKET_INs each logging round's connections caused
        double perEvent = on.packetIns / on.conns;
        System.out.printf(Locale.ROOT, "BENCH audit.jvm_cpu_us_per_event %.1f us%n",
            (on.jvmNanos / on.conns - off.jvmNanos / off.conns) / perEvent / 1e3);
        System.out.printf(Locale.ROOT, "BENCH audit.vswitchd_cpu_us_per_event %.1f us%n",
            (on.vswitchdTicks / on.conns - off.vswitchdTicks / off.conns) / perEvent * 1e6 / HZ);
        System.err.printf(Locale.ROOT, "audit bench: per connection, off / on: Sluice's JVM %.1f / %.1f us, ovs-vswitchd"
            + " %.1f / %.1f us; %.2f PACKET_INs per logged connection%n", off.jvmNanos / off.conns / 1e3,
            on.jvmNanos / on.conns / 1e3, off.vswitchdTicks / off.conns * 1e6 / HZ,
            on.vswitchdTicks / on.conns * 1e6 / HZ, perEvent);
      } finally {
        server.destroyForcibly();
      }
    } finally {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** The default options, or with {@code -Daudit.allowRate=N} another --audit-allow-rate. */
  private static AuditLog.Options allowRate(AuditLog.Options o) {
    long rate = Long.getLong("audit.allowRate", o.allowRate());
    return new AuditLog.Options(o.file(), o.maxFileBytes(), o.maxFiles(), o.recent(), o.denyRate(), rate);
  }

  /** Two-sided 95% quantile of Student's t with {@code df} degrees of freedom (df >= 1). */
  private static double studentT95(int df) {
    double[] t = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145,
        2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
    return df < 1 ? Double.NaN : df <= t.length ? t[df - 1] : 1.96 + 2.5 / df;
  }

  /**
   * Connections {@code audit.clients} client processes (4 by default) open and close to dst:8080 in {@code seconds}, and
   * the seconds it took: several at once, so that the switch is busy and the rate is what its datapath can carry.
   */
  private static double[] connections(Ovs ovs, double seconds) {
    int clients = Integer.getInteger("audit.clients", 4);
    Sh.Result r = ovs.inHost("src", 30, "python3", "-c", String.join("\n",
        "import os, socket, time",
        "r, w = os.pipe(); t0 = time.monotonic(); pids = []",
        "for i in range(" + clients + "):",
        "    pid = os.fork()",
        "    if pid == 0:",
        "        n = 0",
        "        while time.monotonic() - t0 < " + seconds + ":",
        "            c = socket.create_connection(('10.75.0.2', 8080), timeout=2)",
        "            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00')",
        "            c.close(); n += 1",
        "        os.write(w, b'%d\\n' % n); os._exit(0)",
        "    pids.append(pid)",
        "for pid in pids: os.waitpid(pid, 0)",
        "t = time.monotonic() - t0; os.close(w)",
        "out = b''",
        "while True:",
        "    b = os.read(r, 4096)",
        "    if not b: break",
        "    out += b",
        "print(sum(int(x) for x in out.split()), t)"));
    if (r.code() != 0) {
      throw new IllegalStateException("client failed: " + r.out() + r.err());
    }
    String[] parts = r.out().strip().split("\\s+");
    return new double[] {Double.parseDouble(parts[0]), Double.parseDouble(parts[1])};
  }

  /** Waits for the server to listen (its python starts slowly on a loaded machine). */
  private static void awaitListening(Ovs ovs, Process server) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!ovs.inHost("dst", 10, "ss", "-Hltn", "sport = :8080").out().contains("8080")) {
      if (!server.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("the TCP server does not listen on 10.75.0.2:8080");
      }
      Ovs.sleep(50);
    }
  }

  /** Clock ticks per second of /proc/PID/stat's utime and stime (USER_HZ: 100 on Linux). */
  private static final double HZ = 100;

  /** The rounds of one kind (logging on, or off) added up. */
  private static final class Round {
    double conns;
    double secs;
    double packetIns;
    double jvmNanos;
    double vswitchdTicks;

    void add(double n, double s, Usage u) {
      conns += n;
      secs += s;
      packetIns += u.packetIns();
      jvmNanos += u.jvmNanos();
      vswitchdTicks += u.vswitchdTicks();
    }

    double rate() {
      return conns / secs;
    }
  }

  /**
   * What was used, or counted, until now: this JVM's CPU time (all threads: Sluice and this bench, which waits
   * meanwhile), ovs-vswitchd's per thread name (clock ticks; the daemon is shared with whatever else runs on the
   * machine), the allow meter's packets and band drops, and (with -Daudit.ovsStats=true) ovs-vswitchd's coverage
   * counters.
   */
  private record Usage(long jvmNanos, Map<String, Long> vswitchd, Map<String, Long> jvmThreads, long meterPackets, long meterDropped,
                       Map<String, Long> coverageTotals) {
    static Usage now(String br) {
      long jvm = ((com.sun.management.OperatingSystemMXBean)
          java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
      Map<String, Long> threads;
      Map<String, Long> jvmThreads;
      try {
        threads = threadTicks(Files.readString(Path.of("/var/run/openvswitch/ovs-vswitchd.pid")).strip(), false);
        jvmThreads = threadTicks("self", true);
      } catch (java.io.IOException e) {
        throw new IllegalStateException("cannot read ovs-vswitchd's CPU time: " + e, e);
      }
      String stats = Sh.run("ovs-ofctl", "-O", "OpenFlow15", "meter-stats", br,
          "meter=" + io.sluice.renderer.pipeline.PipelineProfile.AUDIT_ALLOW_METER.id());
      Matcher in = Pattern.compile("packet_in_count:(\\d+)").matcher(stats);
      Matcher dropped = Pattern.compile("0: packet_count:(\\d+)").matcher(stats);
      Map<String, Long> coverage = new TreeMap<>();
      if (Boolean.getBoolean("audit.ovsStats")) {
        Matcher c = Pattern.compile("(?m)^(\\S+)\\s.*total: (\\d+)$").matcher(Sh.run("ovs-appctl", "coverage/show"));
        while (c.find()) {
          coverage.put(c.group(1), Long.parseLong(c.group(2)));
        }
      }
      return new Usage(jvm, threads, jvmThreads, in.find() ? Long.parseLong(in.group(1)) : 0,
          dropped.find() ? Long.parseLong(dropped.group(1)) : 0, coverage);
    }

    Usage minus(Usage earlier) {
      return new Usage(jvmNanos - earlier.jvmNanos, delta(vswitchd, earlier.vswitchd),
          delta(jvmThreads, earlier.jvmThreads), meterPackets - earlier.meterPackets,
          meterDropped - earlier.meterDropped, delta(coverageTotals, earlier.coverageTotals));
    }

    private static Map<String, Long> delta(Map<String, Long> now, Map<String, Long> then) {
      Map<String, Long> d = new TreeMap<>();
      now.forEach((k, v) -> {
        long x = v - then.getOrDefault(k, 0L);
        if (x != 0) {
          d.put(k, x);
        }
      });
      return d;
    }

    /**
     * CPU clock ticks per thread name (digits at the end dropped, so a pool's threads add up), user and system time
     * apart when {@code split} ({@code name/u}, {@code name/s}).
     */
    static Map<String, Long> threadTicks(String pid, boolean split) throws java.io.IOException {
      Map<String, Long> threads = new TreeMap<>();
      try (var tasks = Files.list(Path.of("/proc", pid, "task"))) {
        for (Path t : (Iterable<Path>) tasks::iterator) {
          String stat;
          try {
            stat = Files.readString(t.resolve("stat"));
          } catch (java.nio.file.NoSuchFileException gone) {
            continue; // the thread ended meanwhile
          }
          String comm = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("[-\\d]+$", "");
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          long user = Long.parseLong(f[11]);
          long system = Long.parseLong(f[12]);
          if (split) {
            threads.merge(comm + "/u", user, Long::sum);
            threads.merge(comm + "/s", system, Long::sum);
          } else {
            threads.merge(comm, user + system, Long::sum);
          }
        }
      }
      return threads;
    }

    long vswitchdTicks() {
      return vswitchd.values().stream().mapToLong(Long::longValue).sum();
    }

    String vswitchdThreads() {
      return vswitchd.toString();
    }

    long packetIns() {
      return meterPackets - meterDropped;
    }

    Map<String, Long> coverage() {
      return coverageTotals;
    }
  }

  private static String loadAverage() {
    try {
      return String.join(" ", List.of(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
    } catch (java.io.IOException e) {
      return "?";
    }
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
