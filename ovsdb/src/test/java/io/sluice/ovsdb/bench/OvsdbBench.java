package io.sluice.ovsdb.bench;

import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.ovsdb.OvsdbEndpoint;
import io.sluice.ovsdb.OvsdbSource;
import io.sluice.ovsdb.OvsdbStatus;
import io.sluice.ovsdb.rpc.Datum;
import io.sluice.ovsdb.rpc.Op;
import io.sluice.ovsdb.rpc.Op.Condition;
import io.sluice.ovsdb.rpc.Op.Mutation;
import io.sluice.ovsdb.rpc.OvsdbClient;
import io.sluice.ovsdb.rpc.RpcPipeline;
import io.sluice.ovsdb.rpc.RpcStats;
import io.sluice.ovsdb.rpc.TransactResult;
import io.sluice.ovsdb.rpc.Transport;
import io.sluice.ovsdb.testing.EventLog;
import io.sluice.ovsdb.testing.PrivateOvsdbServer;
import io.sluice.ovsdb.testing.Sh;
import io.sluice.ovsdb.testing.SystemOvs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prints
 * <pre>
 * BENCH ovsdb.bind_latency.median_ms VALUE ms      ovs-vsctl add-port (internal port, netdev bridge, system OVS)
 *                                                  → PortBound delivered to the sink; median of 100 ports
 * BENCH ovsdb.load_10k_interfaces_s VALUE s        connect + get_schema + monitor + cache + bindings for 10,000
 *                                                  Interface/Port rows of a private ovsdb-server; median of 3
 * </pre>
 * and, on stderr, an {@code info:} line that splits the bind latency into ovs-vsctl up to its commit, ovs-vswitchd
 * up to the ofport, and Sluice up to the sink (from a second run of ports with an extra monitor connection).
 * Needs root and Open vSwitch (started with ovs-ctl if it is not running). Cleans up its bridge and server.
 */
public final class OvsdbBench {
  private static final int PORTS = 100;
  private static final int ROWS = 10_000;

  private OvsdbBench() {
  }

  public static void main(String[] args) throws Exception {
    // Launch ovs-vsctl with one exec (vfork) rather than JDK 17's default double exec through jspawnhelper,
    // so the figure is about OVS and Sluice, not about how slowly a JVM forks.
    if (System.getProperty("jdk.lang.Process.launchMechanism") == null) {
      System.setProperty("jdk.lang.Process.launchMechanism", "VFORK");
    }
    String only = args.length > 0 ? args[0] : "";
    if (!only.equals("load")) {
      System.out.printf("BENCH ovsdb.bind_latency.median_ms %.2f ms%n", bindLatencyMs());
      bindBreakdown();
    }
    if (!only.equals("bind")) {
      System.out.printf("BENCH ovsdb.load_10k_interfaces_s %.3f s%n", load10kSeconds());
    }
  }

  static double bindLatencyMs() throws Exception {
    try (SystemOvs ovs = new SystemOvs()) {
      String ns = ovs.name("bn");
      EventLog log = new EventLog(p -> p.namespace().equals(ns));
      String br = ovs.bridge("bb", 0x5b00_0000_0001L);
      OvsdbSource source = new OvsdbSource(List.of(OvsdbEndpoint.parse("unix:" + SystemOvs.SOCKET)));
      try {
        source.start(log);
        EventLog.await(source::ready, Duration.ofSeconds(15), "sync");
        double[] ms = new double[PORTS];
        for (int i = 0; i < PORTS; i++) {
          String port = ovs.name("b" + i);
          ObjectRef pod = new ObjectRef(ns, "p" + i);
          long t0 = System.nanoTime();
          Sh.run("ovs-vsctl", "--no-wait", "--timeout=10", "add-port", br, port, "--", "set", "interface", port,
              "type=internal", "external_ids:pod-namespace=" + ns, "external_ids:pod-name=" + pod.name());
          long t1 = log.awaitMatch(e -> e instanceof ModelEvent.PortBound b && b.binding().pod().equals(pod),
              Duration.ofSeconds(10));
          ms[i] = (t1 - t0) / 1e6;
        }
        return median(ms);
      } finally {
        source.stop();
      }
    }
  }

  /**
   * Not a BENCH line: where the bind latency goes. A second run of {@link #PORTS} ports (so the figure above is taken
   * without this observer) with one more monitor connection that notes when the Interface row appears (ovs-vsctl
   * committed) and when its ofport is set (ovs-vswitchd realized it). Prints medians, on stderr.
   */
  static void bindBreakdown() throws Exception {
    try (SystemOvs ovs = new SystemOvs();
        Transport t = new Transport(new RpcPipeline.Settings(1 << 26, Duration.ofSeconds(30), Duration.ZERO,
            new RpcStats()), 1)) {
      String ns = ovs.name("bd");
      EventLog log = new EventLog(p -> p.namespace().equals(ns));
      String br = ovs.bridge("bd", 0x5b00_0000_0002L);
      Map<String, Long> inserted = new java.util.concurrent.ConcurrentHashMap<>();
      Map<String, Long> realized = new java.util.concurrent.ConcurrentHashMap<>();
      Map<String, String> names = new java.util.concurrent.ConcurrentHashMap<>();
      OvsdbClient observer = t.connectUnix(SystemOvs.SOCKET, Duration.ofSeconds(5), (id, kind, txn, updates) -> {
        long now = System.nanoTime();
        updates.path("Interface").fields().forEachRemaining(row -> {
          com.fasterxml.jackson.databind.JsonNode body = row.getValue().elements().next();
          if (body.has("name")) {
            names.put(row.getKey(), body.get("name").asText());
            inserted.putIfAbsent(body.get("name").asText(), now);
          }
          com.fasterxml.jackson.databind.JsonNode ofport = body.get("ofport");
          String name = names.get(row.getKey());
          if (name != null && ofport != null && ofport.isInt() && ofport.asInt() > 0) {
            realized.putIfAbsent(name, now);
          }
        });
      }).get(10, TimeUnit.SECONDS);
      com.fasterxml.jackson.databind.node.ObjectNode req = io.sluice.ovsdb.rpc.Json.NODES.objectNode();
      req.putObject("Interface").putArray("columns").add("name").add("ofport");
      observer.monitorCond("Open_vSwitch", io.sluice.ovsdb.rpc.Json.NODES.textNode("bench-observer"), req)
          .get(10, TimeUnit.SECONDS);
      OvsdbSource source = new OvsdbSource(List.of(OvsdbEndpoint.parse("unix:" + SystemOvs.SOCKET)));
      try {
        source.start(log);
        EventLog.await(source::ready, Duration.ofSeconds(15), "sync");
        double[] commit = new double[PORTS];
        double[] vswitchd = new double[PORTS];
        double[] sluice = new double[PORTS];
        for (int i = 0; i < PORTS; i++) {
          String port = ovs.name("d" + i);
          ObjectRef pod = new ObjectRef(ns, "p" + i);
          long t0 = System.nanoTime();
          Sh.run("ovs-vsctl", "--no-wait", "--timeout=10", "add-port", br, port, "--", "set", "interface", port,
              "type=internal", "external_ids:pod-namespace=" + ns, "external_ids:pod-name=" + pod.name());
          long t3 = log.awaitMatch(e -> e instanceof ModelEvent.PortBound b && b.binding().pod().equals(pod),
              Duration.ofSeconds(10));
          EventLog.await(() -> realized.containsKey(port), Duration.ofSeconds(5), "observer");
          long t1 = inserted.get(port);
          long t2 = realized.get(port);
          commit[i] = (t1 - t0) / 1e6;
          vswitchd[i] = (t2 - t1) / 1e6;
          sluice[i] = (t3 - t2) / 1e6;
        }
        System.err.printf("info: bind latency, medians of %d more ports: ovs-vsctl start to commit %.2f ms, "
            + "commit to ofport set by ovs-vswitchd %.2f ms, ofport update to PortBound at the sink %.2f ms%n",
            PORTS, median(commit), median(vswitchd), median(sluice));
      } finally {
        source.stop();
        observer.close().join();
      }
    }
  }

  static double load10kSeconds() throws Exception {
    try (PrivateOvsdbServer srv = new PrivateOvsdbServer()) {
      srv.vsctl("add-br", "br0", "--", "set", "bridge", "br0", "other_config:datapath-id=00000000000000b1");
      fill(srv);
      double[] s = new double[4];
      for (int run = 0; run < s.length; run++) {
        EventLog sink = new EventLog();
        long t0 = System.nanoTime();
        OvsdbSource source = new OvsdbSource(List.of(OvsdbEndpoint.parse(srv.endpoint())));
        try {
          source.start(sink);
          sink.take(ROWS, Duration.ofSeconds(60));
          long t1 = System.nanoTime();
          OvsdbStatus st = source.status().get(0);
          if (st.interfaces() < ROWS || st.bindings() != ROWS) {
            throw new AssertionError("loaded only " + st);
          }
          s[run] = (t1 - t0) / 1e9;
        } finally {
          source.stop();
        }
      }
      // run 0 warms the JIT up; the figure is the median of the other three
      return median(Arrays.copyOfRange(s, 1, s.length));
    }
  }

  /** 10,000 pod ports in 10 transactions of 1,000, each Interface with an ofport, labels and a MAC. */
  private static void fill(PrivateOvsdbServer srv) throws Exception {
    try (Transport t = new Transport(new RpcPipeline.Settings(1 << 28, Duration.ofSeconds(60), Duration.ZERO,
        new RpcStats()), 1)) {
      OvsdbClient c = t.connectUnix(srv.socket(), Duration.ofSeconds(5), (id, k, x, u) -> { }).get(10,
          TimeUnit.SECONDS);
      for (int batch = 0; batch < 10; batch++) {
        List<Op> ops = new ArrayList<>();
        List<com.fasterxml.jackson.databind.JsonNode> ports = new ArrayList<>();
        for (int j = 0; j < 1000; j++) {
          int n = batch * 1000 + j;
          Map<String, com.fasterxml.jackson.databind.JsonNode> iface = new HashMap<>();
          iface.put("name", Datum.str("pp" + n));
          iface.put("ofport", Datum.integer(n + 1));
          iface.put("external_ids", Datum.map(Map.of("pod-namespace", "bench", "pod-name", "pod-" + n,
              "attached-mac", String.format("0a:00:00:00:%02x:%02x", n >> 8, n & 0xff))));
          ops.add(new Op.Insert("Interface", iface, "i" + n));
          ops.add(new Op.Insert("Port", Map.of("name", Datum.str("pp" + n), "interfaces", Datum.namedUuid("i" + n)),
              "p" + n));
          ports.add(Datum.namedUuid("p" + n));
        }
        ops.add(new Op.Mutate("Bridge", List.of(Condition.eq("name", "br0")),
            List.of(new Mutation("ports", "insert", Datum.set(ports)))));
        TransactResult r = c.transact("Open_vSwitch", ops).get(60, TimeUnit.SECONDS);
        if (!r.ok()) {
          throw new AssertionError("fill failed: " + r.error());
        }
      }
      c.close().join();
    }
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
