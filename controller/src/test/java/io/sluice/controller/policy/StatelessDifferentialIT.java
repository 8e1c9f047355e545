package io.sluice.controller.policy;

import io.sluice.controller.policy.DifferentialIT.Cluster;
import io.sluice.controller.policy.DifferentialIT.Query;
import io.sluice.controller.policy.DifferentialIT.Unixctl;
import io.sluice.controller.profile.Profiles;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.Pod;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.StatelessRenderer;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.OfctlFormat;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import io.sluice.renderer.policy.StatelessPolicy;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.Verdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Differential test of the stateless NetworkPolicy pipeline (the hardware profiles {@code openflow13-generic} and
 * {@code openflow13-single-table}) against the reference evaluator, on Open vSwitch bridges emulating those switches:
 * OpenFlow 1.3 only, one {@code Flow_Table} row per declared table, and every other table refusing any flow
 * ({@code flow_limit=0}, {@code overflow_policy=refuse}). The declared tables take any number of flows here: this test
 * is about what the flows mean, and products of ipBlock excepts and port ranges outgrow a small TCAM (the summary line
 * counts the cases over a table's size; a switch's budget is enforced by sync, failing closed).
 *
 * <p>The clusters are {@link DifferentialIT}'s (random namespaces, pods, policies). For every connection it asks about,
 * two packets are traced, without conntrack:
 * <ul>
 *   <li>the connection's first packet (from port 40000; TCP with only SYN set) must pass exactly when the reference
 *   evaluator allows the connection;</li>
 *   <li>its reply (from the connection's port to 40000; TCP with SYN and ACK) must pass when the reference allows the
 *   connection, or when it allows a connection the reply's way (the stateless semantics: a packet passes when it may
 *   open a connection, or when it is reply-shaped and its swapped packet may: docs/pipeline.md);</li>
 *   <li>for TCP, a SYN alone the reply's way (server port to client port) passes only when the reference allows that
 *   connection: a reverse rule never opens one;</li>
 *   <li>the first packet sent from another pod's port (spoofed source) is dropped.</li>
 * </ul>
 * The expectation of the first three is {@code ref(p) or (replyShaped(p) and ref(swap(p)))}, checked both ways: a pass the
 * semantics do not grant is a failure as much as a drop of a reply.
 */
class StatelessDifferentialIT {
  private static final long DPID = DifferentialIT.DPID;
  private static final int CLIENT_PORT = 40000;
  private static final List<String> PROFILES = List.of("openflow13-generic", "openflow13-single-table");

  private static Ovs ovs;
  private static final Map<String, String> bridges = new TreeMap<>();
  private static final Map<String, PipelineProfile> profiles = new TreeMap<>();
  private static final Map<String, Long> mostFlows = new TreeMap<>();
  private static final Map<String, Long> overBudget = new TreeMap<>();
  private static Path flowFile;
  private static final AtomicLong cases = new AtomicLong();
  private static final AtomicLong sharedCases = new AtomicLong();
  private static final AtomicLong traces = new AtomicLong();
  private static final AtomicLong passed = new AtomicLong();

  @BeforeContainer
  static void bridges() throws IOException {
    ovs = new Ovs();
    int n = 0;
    for (String name : PROFILES) {
      PipelineProfile p = Profiles.builtIn(name).profile();
      profiles.put(name, p);
      String br = ovs.bridge("sd" + n++, DPID, "OpenFlow13", 0);
      bridges.put(name, br);
      for (int i = 1; i <= DifferentialIT.EXTERNAL_PORT; i++) {
        String port = ovs.name("s" + n + "p" + i);
        Sh.run("ovs-vsctl", "add-port", br, port, "--", "set", "interface", port, "type=internal", "ofport_request=" + i);
      }
      // a hardware switch's tables: the declared ones hold at most their size, the others nothing
      List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--", "--id=@none", "create", "Flow_Table", "flow_limit=0",
          "overflow_policy=refuse"));
      StringBuilder tables = new StringBuilder();
      for (int t = 0; t < 255; t++) {
        Table table = p.tables().get(t);
        if (table != null) {
          cmd.addAll(List.of("--", "--id=@t" + t, "create", "Flow_Table", "name=" + table.name()));
        }
        tables.append(t == 0 ? "" : ",").append(t).append(table != null ? "=@t" + t : "=@none");
      }
      cmd.addAll(List.of("--", "set", "bridge", br, "flow_tables={" + tables + "}"));
      Sh.run(cmd.toArray(String[]::new));
    }
    flowFile = Files.createTempFile("sluice-stateless", ".flows");
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    System.out.printf("StatelessDifferentialIT: %d cases (%d with two pods and their node behind one port), %d traces "
        + "(%d passed); most flows in one table %s; cases over a table's size %s%n", cases.get(), sharedCases.get(),
        traces.get(), passed.get(), mostFlows, overBudget);
    if (flowFile != null) {
      Files.deleteIfExists(flowFile);
    }
    if (ovs != null) {
      ovs.close();
    }
  }

  @Property(tries = 150, shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
  void genericProfileAgreesWithTheStatelessSemantics(@ForAll("clusters") Cluster cluster) throws IOException {
    check("openflow13-generic", cluster);
  }

  @Property(tries = 150, shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
  void singleTableProfileAgreesWithTheStatelessSemantics(@ForAll("clusters") Cluster cluster) throws IOException {
    check("openflow13-single-table", cluster);
  }

  @Provide
  Arbitrary<Cluster> clusters() {
    return DifferentialIT.mayShareArbitrary();
  }

  /** One packet to trace: where it enters, the OpenFlow flow text, and the verdict the semantics give it. */
  private record Packet(String what, String flow, boolean expected, String why) { }

  private static void check(String profileName, Cluster cluster) throws IOException {
    cases.incrementAndGet();
    if (cluster.shared()) {
      sharedCases.incrementAndGet();
    }
    PipelineProfile profile = profiles.get(profileName);
    String bridge = bridges.get(profileName);
    Snapshot snap = cluster.snapshot();
    io.sluice.renderer.flow.DesiredTables desired = new StatelessRenderer(profile, 1, false).render(snap, DPID);
    List<Flow> flows = new ArrayList<>(desired.flows().values());
    flows.sort(Comparator.comparingInt(Flow::table).thenComparing(Comparator.comparingInt(Flow::priority).reversed())
        .thenComparing(OfctlFormat::flow));
    Map<Integer, Long> perTable = new TreeMap<>();
    flows.forEach(f -> perTable.merge(f.table(), 1L, Long::sum));
    perTable.values().stream().max(Long::compare).ifPresent(m -> mostFlows.merge(profileName, m, Math::max));
    if (!profile.overBudget(flows).isEmpty()) {
      overBudget.merge(profileName, 1L, Long::sum);
    }
    List<String> lines = flows.stream().map(f -> OfctlFormat.flow(f).strip()).toList();
    Files.write(flowFile, lines, StandardCharsets.UTF_8);
    Sh.run("ovs-ofctl", "-O", "OpenFlow13", "del-meters", bridge);
    for (io.sluice.renderer.flow.Meter m : desired.meters().values()) { // the flood meter, where the profile has meters
      Sh.run("ovs-ofctl", "-O", "OpenFlow13", "add-meter", bridge, "meter=" + m.id() + ",pktps,burst,band=type=drop,rate="
          + m.rate() + ",burst_size=" + m.burstSize());
    }
    Sh.run("ovs-ofctl", "-O", "OpenFlow13", "replace-flows", bridge, flowFile.toString());

    ReferenceEvaluator oracle = new ReferenceEvaluator();
    List<Packet> packets = new ArrayList<>();
    for (Query q : cluster.queries()) {
      boolean forward = oracle.evaluate(snap, Endpoint.ip(q.src()), Endpoint.ip(q.dst()), q.protocol(), q.port()).allowed();
      // the first packet: never reply-shaped (SYN alone; every port asked is below the ephemeral range)
      packets.add(new Packet(q.src() + " -> " + q.dst() + " " + q.protocol() + " " + q.port() + " (first packet)",
          flow(q.ofport(), q.v6(), q.protocol(), q.src(), q.dst(), CLIENT_PORT, q.port(), false), forward,
          "reference " + (forward ? "allows" : "denies") + " the connection"));
      Verdict back = oracle.evaluate(snap, Endpoint.ip(q.dst()), Endpoint.ip(q.src()), q.protocol(), CLIENT_PORT);
      packets.add(new Packet(q.dst() + " -> " + q.src() + " " + q.protocol() + " from " + q.port() + " (reply)",
          flow(portOf(cluster, q.dst()), q.v6(), q.protocol(), q.dst(), q.src(), q.port(), CLIENT_PORT, true),
          forward || back.allowed(), "reference " + (forward ? "allows" : "denies") + " the connection, "
          + (back.allowed() ? "allows" : "denies") + " one the reply's way"));
      if (q.protocol() == Protocol.TCP) {
        // a connection opened from the server's port to the client's: reply-shaped ports, but SYN alone
        packets.add(new Packet(q.dst() + " -> " + q.src() + " TCP SYN from " + q.port() + " to " + CLIENT_PORT,
            flow(portOf(cluster, q.dst()), q.v6(), q.protocol(), q.dst(), q.src(), q.port(), CLIENT_PORT, false),
            back.allowed(), "reference " + (back.allowed() ? "allows" : "denies") + " that connection"));
      }
      int spoofer = spoofingPort(cluster, q.ofport());
      if (spoofer > 0) {
        // the same first packet sent from another pod's port: a pod sends only from its own addresses
        packets.add(new Packet(q.src() + " -> " + q.dst() + " " + q.protocol() + " " + q.port() + " spoofed from port "
            + spoofer, flow(spoofer, q.v6(), q.protocol(), q.src(), q.dst(), CLIENT_PORT, q.port(), false), false,
            "not the address of the pod on that port"));
      }
    }
    List<String> results;
    try (Unixctl unixctl = Unixctl.connect()) { // one per case: a failed case leaves no replies behind for the next
      results = unixctl.traces(bridge, packets.stream().map(Packet::flow).toList(), List.of());
    }
    traces.addAndGet(packets.size());
    List<String> mismatches = new ArrayList<>();
    for (int i = 0; i < packets.size(); i++) {
      Packet p = packets.get(i);
      boolean passes = !DifferentialIT.lastDatapathActions(results.get(i)).equals("drop");
      if (passes) {
        passed.incrementAndGet();
      }
      if (passes != p.expected()) {
        StringBuilder m = new StringBuilder(String.format("%s: expected %s (%s), switch %s%n", p.what(),
            p.expected() ? "PASS" : "DROP", p.why(), passes ? "passes" : "drops"));
        if (mismatches.size() < 2) {
          m.append("  $ ovs-appctl ofproto/trace ").append(bridge).append(" '").append(p.flow()).append("'\n")
              .append(DifferentialIT.indent(results.get(i), "    "));
        }
        mismatches.add(m.toString());
      }
    }
    if (!mismatches.isEmpty()) {
      StringBuilder report = new StringBuilder();
      report.append(profileName).append(": ").append(mismatches.size()).append(" of ").append(packets.size())
          .append(" packets judged differently by the stateless semantics and the compiled table\n\n");
      report.append("CLUSTER\n").append(DifferentialIT.indent(cluster.describe(), "  ")).append('\n');
      report.append("MISMATCHES (first ").append(Math.min(8, mismatches.size())).append(")\n");
      mismatches.stream().limit(8).forEach(s -> report.append(DifferentialIT.indent(s, "  ")));
      report.append("\nCOMPILED FLOWS\n");
      lines.forEach(l -> report.append("  ").append(l).append('\n'));
      throw new AssertionError(report.toString());
    }
  }

  /** Another pod's port than {@code port} (a pod's), or 0 when the source is outside or alone on its port. */
  private static int spoofingPort(Cluster cluster, int port) {
    if (port == DifferentialIT.EXTERNAL_PORT) {
      return 0;
    }
    for (int i = 0; i < cluster.pods().size(); i++) {
      if (cluster.port(i) != port) {
        return cluster.port(i);
      }
    }
    return 0;
  }

  /** The port an address sends from: its pod's, its attached node's, or the outside port. */
  private static int portOf(Cluster cluster, String ip) {
    return cluster.portOf(ip);
  }

  private static String flow(int inPort, boolean v6, Protocol protocol, String src, String dst, int srcPort, int dstPort,
                             boolean ack) {
    String p = protocol.name().toLowerCase(Locale.ROOT);
    String addresses = v6 ? String.format("%s6,ipv6_src=%s,ipv6_dst=%s", p, src, dst)
        : String.format("%s,nw_src=%s,nw_dst=%s", p, src, dst);
    String flags = protocol == Protocol.TCP ? (ack ? ",tcp_flags=0x012" : ",tcp_flags=0x002") : "";
    return String.format("in_port=%d,%s,%s_src=%d,%s_dst=%d%s", inPort, addresses, p, srcPort, p, dstPort, flags);
  }

  static {
    // (the reply shape the expectations rely on: every asked port is below it, the client port above)
    if (StatelessPolicy.EPHEMERAL_FROM > CLIENT_PORT) {
      throw new AssertionError("the client port must be in the ephemeral range");
    }
  }
}
