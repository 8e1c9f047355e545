package io.sluice.controller.testing;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.sync.SwitchManager.ReconcileReport;
import io.sluice.controller.sync.SwitchStatus;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Open vSwitch itself going away under a policy (issue 11), shared by OvsRestartIT and OvsBench: a private OVS
 * instance ({@link PrivateOvs}) with one fail-secure bridge, three pods as namespace hosts (web, db, oth), a policy
 * that lets only web reach db, and a Sluice runtime pointed at the instance's OVSDB. {@link #restart()} runs
 * {@code ovs-ctl restart} (flows saved and restored under flow-restore-wait), {@link #crash()} kills ovs-vswitchd
 * with SIGKILL and starts it again with no saved flows; both under a 10 ms ping web -> db (allowed) and oth -> db
 * (denied), timing the switch's disconnection, reconnection and realization as Sluice's status shows them.
 */
public final class OvsOutage implements AutoCloseable {
  public static final long DPID = 0x7e61;
  private static final String NS = "rs";
  private static final String DB_IP = "10.79.0.2";
  private static final Pattern PING = Pattern.compile("(\\d+) packets transmitted, (\\d+) received");
  private static final Pattern REPLY = Pattern.compile("bytes from \\S+ icmp_seq=(\\d+) ");

  private final PrivateOvs priv;
  private final Ovs ovs;
  private final SluiceRuntime rt;
  private final String br;

  /** Pings sent and answered, and the runs of unanswered sequence numbers ("from-to", first to last lost). */
  public record Ping(int sent, int received, List<String> gaps) {
    public Ping {
      gaps = List.copyOf(gaps);
    }

    public int lost() {
      return sent - received;
    }
  }

  /**
   * One outage: pings through it, seconds from the start of the outage to Sluice seeing the switch reconnect and to
   * its realization of the model's generation (and from reconnection to realization), the reconcile on reconnection,
   * Sluice's flows on the bridge before and after, and the model generation before and after.
   */
  public record Result(Ping allowed, Ping denied, double reconnectedS, double realizedS, ReconcileReport reconcile,
                       List<String> flowsBefore, List<String> flowsAfter, long generationBefore, long generationAfter) {
    public double reconnectToRealizedS() {
      return realizedS - reconnectedS;
    }
  }

  public OvsOutage(Path manifests) throws Exception {
    Files.writeString(manifests.resolve("ns.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: " + NS + ", labels: {team: rs}}", ""));
    Files.writeString(manifests.resolve("pods.yaml"), pod("web", "10.79.0.1", "web") + pod("db", DB_IP, "db")
        + pod("oth", "10.79.0.3", "other"));
    Files.writeString(manifests.resolve("policy.yaml"), String.join("\n",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: db-from-web, namespace: " + NS + "}",
        "spec:", "  podSelector: {matchLabels: {app: db}}", "  ingress:",
        "  - from: [{podSelector: {matchLabels: {app: web}}}]", ""));
    priv = new PrivateOvs();
    Ovs o = null;
    SluiceRuntime r = null;
    try {
      o = new Ovs(priv);
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, manifests,
          List.of(priv.dbTarget()), null);
      r = SluiceRuntime.start(cfg);
      br = o.bridge("rs", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", r.openflowPort());
      o.host(br, "web", "10.79.0.1/24", "0a:58:0a:4f:00:01", NS, "web");
      o.host(br, "db", DB_IP + "/24", "0a:58:0a:4f:00:02", NS, "db");
      o.host(br, "oth", "10.79.0.3/24", "0a:58:0a:4f:00:03", NS, "oth");
    } catch (Exception | AssertionError e) {
      closeAll(r, o, priv);
      throw e;
    }
    ovs = o;
    rt = r;
    awaitRealized();
  }

  private static String pod(String name, String ip, String app) {
    return String.join("\n", "apiVersion: v1", "kind: Pod",
        "metadata: {name: " + name + ", namespace: " + NS + ", labels: {app: " + app + "}}",
        "spec: {containers: [{name: c, image: x}]}", "status: {podIP: " + ip + "}", "---", "");
  }

  public Ovs ovs() {
    return ovs;
  }

  public SluiceRuntime runtime() {
    return rt;
  }

  public PrivateOvs instance() {
    return priv;
  }

  /** Waits until the three pods are bound and the switch confirmed the model's generation. */
  public void awaitRealized() {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (System.nanoTime() < deadline) {
      List<SwitchStatus> st = rt.switches().statuses();
      if (rt.model().snapshot().bindings().size() == 3 && st.size() == 1 && realized(st.get(0))) {
        return;
      }
      Ovs.sleep(20);
    }
    throw new AssertionError("not realized: generation " + rt.model().generation() + ", bindings "
        + rt.model().snapshot().bindings().keySet() + ", " + rt.switches().statuses() + "\n" + priv.logTail());
  }

  private boolean realized(SwitchStatus s) {
    return s.connected() && s.realizedGeneration() == rt.model().generation();
  }

  /** Whether a one-shot ping between two hosts is answered within a second. */
  public boolean pings(String from, String toIp) {
    return ovs.inHost(from, 5, "ping", "-c", "1", "-W", "1", toIp).code() == 0;
  }

  /** {@code ovs-ctl restart} under pings. */
  public Result restart() throws Exception {
    return outage(priv::restart);
  }

  /** SIGKILL of ovs-vswitchd, then a fresh start with no saved flows, under pings. */
  public Result crash() throws Exception {
    return outage(() -> {
      priv.killVswitchd();
      priv.startVswitchd();
    });
  }

  private Result outage(Runnable action) throws Exception {
    awaitRealized();
    List<String> before = ovs.flows(br);
    long generationBefore = rt.model().generation();
    ReconcileReport reconcileBefore = rt.switches().lastReconcile(DPID);
    Process allowed = ping("web", DB_IP);
    Process denied = ping("oth", DB_IP);
    try {
      Ovs.sleep(500);
      long t0 = System.nanoTime();
      CompletableFuture<Void> done = CompletableFuture.runAsync(action);
      long down = -1;
      long reconnected = -1;
      long realized = -1;
      long deadline = t0 + Duration.ofSeconds(40).toNanos();
      while (realized < 0 && System.nanoTime() < deadline) {
        List<SwitchStatus> st = rt.switches().statuses();
        long now = System.nanoTime();
        boolean connected = !st.isEmpty() && st.get(0).connected();
        if (!connected) {
          down = now;
        } else if (down >= 0) {
          if (reconnected < 0) {
            reconnected = now;
          }
          if (realized(st.get(0)) && !java.util.Objects.equals(rt.switches().lastReconcile(DPID), reconcileBefore)) {
            realized = now;
          }
        }
        Thread.sleep(1);
      }
      done.get();
      if (realized < 0) {
        throw new AssertionError("switch not realized again after the outage (down seen: " + (down >= 0)
            + ", reconnected: " + (reconnected >= 0) + "): " + rt.switches().statuses() + "\n" + priv.logTail());
      }
      Ovs.sleep(1000); // pings after realization count too
      return new Result(stop(allowed), stop(denied), (reconnected - t0) / 1e9, (realized - t0) / 1e9,
          rt.switches().lastReconcile(DPID), before, ovs.flows(br), generationBefore, rt.model().generation());
    } finally {
      allowed.destroyForcibly();
      denied.destroyForcibly();
    }
  }

  /** A 10 ms ping, bounded to 60 s; {@link #stop} ends it with SIGINT, which makes it print its counts. Sequence numbers start at 1. */
  private Process ping(String from, String toIp) throws java.io.IOException {
    return new ProcessBuilder("ip", "netns", "exec", ovs.name(from), "ping", "-i", "0.01", "-w", "60", toIp)
        .redirectErrorStream(true).start();
  }

  private static Ping stop(Process p) throws Exception {
    Sh.run("kill", "-INT", Long.toString(p.pid()));
    if (!p.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
      throw new AssertionError("ping did not stop");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    Matcher m = PING.matcher(out);
    if (!m.find()) {
      throw new AssertionError("no ping counts in: " + out);
    }
    int sent = Integer.parseInt(m.group(1));
    java.util.BitSet answered = new java.util.BitSet();
    Matcher r = REPLY.matcher(out);
    while (r.find()) {
      answered.set(Integer.parseInt(r.group(1)));
    }
    List<String> gaps = new java.util.ArrayList<>();
    for (int seq = answered.nextClearBit(1); seq <= sent; seq = answered.nextClearBit(seq)) {
      int end = Math.min(sent + 1, answered.nextSetBit(seq) < 0 ? sent + 1 : answered.nextSetBit(seq));
      gaps.add(seq + "-" + (end - 1));
      seq = end;
    }
    return new Ping(sent, Integer.parseInt(m.group(2)), gaps);
  }

  private static void closeAll(AutoCloseable... all) {
    for (AutoCloseable c : all) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception ignored) {
          // best effort, the others still close
        }
      }
    }
  }

  @Override
  public void close() {
    closeAll(rt, ovs, priv);
  }
}
