package io.sluice.controller.policy;

import io.sluice.controller.policy.DifferentialIT.Cluster;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.EndpointSlice;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.flow.OfctlFormat;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.ServiceResolver;
import io.sluice.renderer.reference.ServiceVerdict;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Differential test of the Service compiler, together with the policy compiler, against the reference on a real
 * switch: {@link ServiceVerdict} (the reference reading of Service translation, {@link ServiceResolver}, and
 * NetworkPolicy's verdict on the translated connection, {@link ReferenceEvaluator}).
 *
 * <p>The clusters and policies are {@link DifferentialIT}'s. To them jqwik adds 1–3 ClusterIP Services (IPv4, IPv6 or
 * dual-stack virtual addresses 10.96.0.x / fd00:96::x; one or two ports, TCP, UDP or SCTP, numeric or named
 * targetPorts) and their EndpointSlices as the EndpointSlice controller writes them: 0–4 members per family, pods of
 * the cluster (a named targetPort resolved per pod, with its protocol; a pod without it lands in a slice without that
 * port) or an address outside the cluster, each ready, serving and terminating, or neither; members with the same
 * ports share a slice. Pod i sits at OpenFlow port i with MAC 0a:58:00:00:00:0i (a static MAC-table entry, so
 * {@code NORMAL} outputs to one port); outside addresses send from port 7 and are reached through a gateway at port 8
 * (the MAC every client addresses off-link traffic to).
 *
 * <p>For each Service port and virtual address, one client first traces it with {@code dp_hash} 1..16 to learn which
 * bucket (endpoint) each hash picks, and the set picked must be the reference's endpoints. Then for every client (each
 * pod with an address of that family, and two outside addresses) and every endpoint, a new connection is traced with
 * a hash that picks that endpoint ({@code --ct-next trk,new --ct-next trk,new,dnat}, and a third state for the hairpin
 * zone), and its last {@code Datapath actions:} must be what the reference says: the translation allowed, one output
 * to the endpoint's port (the client's own port when the client is the endpoint: hairpin); denied, {@code drop}; no
 * usable endpoint, the metered {@code userspace(...controller...)} that refuses the client. And a connection to a
 * virtual address on a port no Service has is not translated: it is judged by policy as one to that address (an
 * outside one: ipBlocks), and allowed, it leaves through the gateway.
 *
 * <p>A quarter of the Services have {@code sessionAffinity: ClientIP}: a client's first connection looks in table 14
 * (empty: a trace executes no learn) and is balanced by the group through table 15, so it must end as without
 * affinity. Not covered: that later connections keep their endpoint (ServiceAffinityIT), traffic policies Local,
 * NodePorts, external and load-balancer IPs, masquerade (no Node objects), later packets and replies of a connection
 * (a trace follows one packet), large (group of groups) Services, and how evenly the group spreads connections.
 *
 * <p>Reproduce a failure with the seed jqwik prints ({@code seed = "..."} on the {@code @Property}).
 */
class ServiceDifferentialIT {
  /** The bridge's datapath id; the flows are compiled for {@link DifferentialIT#DPID}, where the pods are bound. */
  private static final long DPID = 0xd25eL;
  private static final int MAX_PODS = 6;
  private static final int EXTERNAL_PORT = MAX_PODS + 1;
  private static final int GATEWAY_PORT = MAX_PODS + 2;
  private static final String GATEWAY_MAC = "02:00:00:00:00:fe";
  private static final List<String> CLIENTS_V4 = List.of("10.77.1.200", "192.168.7.7");
  private static final List<String> CLIENTS_V6 = List.of("fd00::1:c8", "2001:db8::7");
  /** Outside endpoints: inside the ipBlocks the policies draw from (10.77.1.0/24, fd00::1:0/112), so they matter. */
  private static final String OUTSIDE_ENDPOINT_V4 = "10.77.1.100";
  private static final String OUTSIDE_ENDPOINT_V6 = "fd00::1:64";
  private static final int HASHES = 16;
  /** A port no generated Service has (they have 53, 80 and 443). */
  private static final int NO_SERVICE_PORT = 8443;
  /** Conntrack's answers: table 10's lookup, the bucket's DNAT commit, the hairpin SNAT commit. */
  private static final List<String> CT_STATES = List.of("trk,new", "trk,new,dnat", "trk,new");

  private static Ovs ovs;
  private static String bridge;
  private static DifferentialIT.Unixctl unixctl;
  private static Path flowFile;
  private static final Map<Integer, String> dpPorts = new TreeMap<>();
  private static final AtomicLong cases = new AtomicLong();
  private static final AtomicLong traces = new AtomicLong();
  private static final Map<String, AtomicLong> outcomes = new TreeMap<>();
  private static long started;

  @BeforeContainer
  static void bridgeWithPorts() throws IOException {
    ovs = new Ovs();
    bridge = ovs.bridge("sd", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
    for (int i = 1; i <= GATEWAY_PORT; i++) {
      String p = ovs.name("p" + i);
      Sh.run("ovs-vsctl", "add-port", bridge, p, "--", "set", "interface", p, "type=internal", "ofport_request=" + i);
      String got = Sh.run("ovs-vsctl", "get", "interface", p, "ofport").trim();
      if (!got.equals(Integer.toString(i))) {
        throw new AssertionError("interface " + p + " got ofport " + got + ", wanted " + i);
      }
      String mac = i == GATEWAY_PORT ? GATEWAY_MAC : i == EXTERNAL_PORT ? null : mac(i);
      if (mac != null) {
        Sh.run("ovs-appctl", "fdb/add", bridge, p, "0", mac);
      }
    }
    String show = Sh.run("ovs-appctl", "dpif/show");
    for (int i = 1; i <= GATEWAY_PORT; i++) {
      Matcher m = Pattern.compile("\\n\\s+" + Pattern.quote(ovs.name("p" + i)) + " " + i + "/(\\d+)").matcher(show);
      if (!m.find()) {
        throw new AssertionError("no datapath port for " + ovs.name("p" + i) + " in dpif/show:\n" + show);
      }
      dpPorts.put(i, m.group(1));
    }
    flowFile = Files.createTempFile("sluice-service-differential", ".flows");
    unixctl = DifferentialIT.Unixctl.connect();
    started = System.nanoTime();
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    long ms = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("ServiceDifferentialIT: %d cases, %d traces in %d ms; connections judged: %s%n",
        cases.get(), traces.get(), ms, outcomes);
    if (unixctl != null) {
      unixctl.close();
    }
    if (flowFile != null) {
      Files.deleteIfExists(flowFile);
    }
    if (ovs != null) {
      ovs.close();
    }
  }

  private static String mac(int ofport) {
    return String.format("0a:58:00:00:00:%02x", ofport);
  }

  // ------------------------------------------------------------------ the property

  @Property(tries = 80, shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
  void translatedConnectionsAgreeWithTheReference(@ForAll("cases") Case c) throws IOException {
    check(c);
  }

  /** What the datapath finally does with a new connection's first packet. */
  private sealed interface Outcome {
    record Dropped() implements Outcome {
      @Override
      public String toString() {
        return "drop";
      }
    }

    record Refused() implements Outcome {
      @Override
      public String toString() {
        return "refused (to the controller)";
      }
    }

    record Output(int ofport) implements Outcome {
      @Override
      public String toString() {
        return "output to port " + ofport;
      }
    }

    record Other(String actions) implements Outcome {
      @Override
      public String toString() {
        return "neither drop, refusal nor one output";
      }
    }
  }

  /** A client of one family: its address, the port it sends from, its MAC. */
  private record Client(String ip, int ofport, String mac) { }

  /** A Service port at one virtual address. */
  private record Target(String vip, Protocol protocol, int port) {
    String packet(Client c, int hash) {
      boolean v6 = vip.indexOf(':') >= 0;
      String p = protocol.name().toLowerCase(Locale.ROOT);
      return String.format("dp_hash=%d,in_port=%d,%s%s,dl_src=%s,dl_dst=%s,%s=%s,%s=%s,%s_src=40000,%s_dst=%d", hash,
          c.ofport, p, v6 ? "6" : "", c.mac, GATEWAY_MAC, v6 ? "ipv6_src" : "nw_src", c.ip, v6 ? "ipv6_dst" : "nw_dst",
          vip, p, p, port);
    }

    @Override
    public String toString() {
      return protocol + " " + (vip.indexOf(':') >= 0 ? "[" + vip + "]" : vip) + ":" + port;
    }
  }

  private static void check(Case c) throws IOException {
    cases.incrementAndGet();
    Snapshot snap = c.snapshot();
    // compiled for the switch the cluster's pods are bound to, so their egress and ingress rules are there
    DesiredTables tables = new Renderer(PipelineProfile.ovs(), 1).render(snap, DifferentialIT.DPID);
    List<Flow> flows = new ArrayList<>(tables.flows().values());
    flows.sort(Comparator.comparingInt(Flow::table).thenComparing(Comparator.comparingInt(Flow::priority).reversed())
        .thenComparing(OfctlFormat::flow));
    List<String> lines = new ArrayList<>(flows.stream().map(f -> OfctlFormat.flow(f).strip()).toList());
    List<String> groups = tables.groups().values().stream().map(g -> OfctlFormat.group(g).strip()).sorted().toList();
    Path groupFile = flowFile.resolveSibling(flowFile.getFileName() + ".groups");
    Files.write(flowFile, lines, StandardCharsets.UTF_8);
    Files.write(groupFile, groups, StandardCharsets.UTF_8);
    try {
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-flows", bridge);
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-groups", bridge);
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-meters", bridge);
      for (Meter m : tables.meters().values()) {
        Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-meter", bridge,
            "meter=" + m.id() + "," + (m.packets() ? "pktps" : "kbps") + ",burst,band=type=drop,rate=" + m.rate()
                + ",burst_size=" + m.burstSize());
      }
      if (!groups.isEmpty()) {
        Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-groups", bridge, groupFile.toString());
      }
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "--bundle", "replace-flows", bridge, flowFile.toString());
    } finally {
      Files.deleteIfExists(groupFile);
    }

    ReferenceEvaluator oracle = new ReferenceEvaluator();
    List<String> mismatches = new ArrayList<>();
    for (Target t : c.targets()) {
      boolean v6 = t.vip.indexOf(':') >= 0;
      List<Client> clients = c.clients(v6);
      Map<Client, ServiceVerdict> expected = new LinkedHashMap<>();
      for (Client cl : clients) {
        expected.put(cl, ServiceVerdict.of(oracle, snap, Endpoint.ip(cl.ip), t.vip, t.protocol, t.port)
            .orElseThrow(() -> new AssertionError("the reference knows no Service port " + t)));
      }
      ServiceVerdict any = expected.values().iterator().next();
      if (any.refused()) {
        List<String> results = trace(clients.stream().map(cl -> t.packet(cl, 1)).toList());
        for (int i = 0; i < clients.size(); i++) {
          compare(c, t, clients.get(i), Optional.empty(), new Outcome.Refused(), results.get(i), mismatches);
        }
        continue;
      }
      // which endpoint each hash picks: the bucket's DNAT in the trace
      Client first = clients.get(0);
      List<String> probes = new ArrayList<>();
      for (int h = 1; h <= HASHES; h++) {
        probes.add(t.packet(first, h));
      }
      List<String> probed = trace(probes);
      Map<String, Integer> hashOf = new TreeMap<>();  // backend "address:port" -> first hash picking it
      for (int h = 1; h <= HASHES; h++) {
        String picked = dnat(probed.get(h - 1));
        if (picked == null) {
          mismatches.add(t + " dp_hash=" + h + ": the trace applies no DNAT, the reference has endpoints "
              + any.service().backends() + "\n" + indent(probed.get(h - 1), "    "));
          continue;
        }
        hashOf.putIfAbsent(picked, h);
      }
      List<String> wanted = any.service().backends().stream().map(b -> key(b.address(), b.port())).sorted().distinct().toList();
      if (!new ArrayList<>(hashOf.keySet()).equals(wanted)) {
        mismatches.add(t + ": " + HASHES + " hashes picked endpoints " + hashOf.keySet() + ", the reference has " + wanted);
      }
      List<String> packets = new ArrayList<>();
      List<Runnable> judge = new ArrayList<>();
      List<String> results = new ArrayList<>();
      for (Client cl : clients) {
        ServiceVerdict sv = expected.get(cl);
        for (ServiceVerdict.Translation tr : sv.translations()) {
          Integer h = hashOf.get(key(tr.backend().address(), tr.backend().port()));
          if (h == null) {
            continue; // reported above
          }
          int index = packets.size();
          packets.add(t.packet(cl, h));
          Outcome want = tr.verdict().allowed() ? new Outcome.Output(portOf(c, tr.backend().address())) : new Outcome.Dropped();
          judge.add(() -> compare(c, t, cl, Optional.of(tr), want, results.get(index), mismatches));
        }
      }
      results.addAll(trace(packets));
      judge.forEach(Runnable::run);
    }
    // a virtual address on a port no Service has: an ordinary connection to that address, not translated
    for (String vip : c.services().stream().flatMap(s -> s.clusterIPs().stream()).toList()) {
      List<Client> clients = c.clients(vip.indexOf(':') >= 0);
      for (Protocol p : Protocol.values()) {
        Target t = new Target(vip, p, NO_SERVICE_PORT);
        List<String> results = trace(clients.stream().map(cl -> t.packet(cl, 1)).toList());
        for (int i = 0; i < clients.size(); i++) {
          Client cl = clients.get(i);
          boolean allowed = oracle.evaluate(snap, Endpoint.ip(cl.ip), Endpoint.ip(vip), p, NO_SERVICE_PORT).allowed();
          compare(c, t, cl, Optional.empty(), allowed ? new Outcome.Output(GATEWAY_PORT) : new Outcome.Dropped(),
              results.get(i), mismatches);
        }
      }
    }
    if (!mismatches.isEmpty()) {
      StringBuilder report = new StringBuilder();
      report.append(mismatches.size()).append(" connections to Services judged differently by the reference and the")
          .append(" compiled tables\n\nCLUSTER\n").append(indent(c.describe(), "  ")).append('\n');
      report.append("MISMATCHES (first ").append(Math.min(6, mismatches.size())).append(")\n");
      mismatches.stream().limit(6).forEach(s -> report.append(indent(s, "  ")));
      report.append("\nCOMPILED SERVICE FLOWS AND GROUPS\n");
      lines.stream().filter(l -> l.contains("table=11,") || l.contains("table=12,"))
          .forEach(l -> report.append("  ").append(l).append('\n'));
      groups.forEach(g -> report.append("  ").append(g).append('\n'));
      throw new AssertionError(report.toString());
    }
  }

  private static void compare(Case c, Target t, Client cl, Optional<ServiceVerdict.Translation> tr, Outcome want,
                              String trace, List<String> mismatches) {
    String actions = lastDatapathActions(trace);
    Outcome got = outcome(actions);
    String picked = dnat(trace);
    String wantDnat = tr.map(x -> key(x.backend().address(), x.backend().port())).orElse(null);
    boolean wrongEndpoint = !java.util.Objects.equals(wantDnat, picked);
    String kind = want.getClass().getSimpleName();
    if (tr.isEmpty() && !(want instanceof Outcome.Refused)) {
      kind += " (not a Service port)";
    } else if (want instanceof Outcome.Output o) {
      kind += o.ofport() == GATEWAY_PORT ? " (outside endpoint)" : o.ofport() == cl.ofport ? " (hairpin)" : "";
    }
    if (trace.contains("learn(table=14")) {
      kind += " (ClientIP affinity)";
    }
    synchronized (outcomes) {
      outcomes.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }
    if (got.equals(want) && !wrongEndpoint) {
      return;
    }
    StringBuilder m = new StringBuilder();
    m.append(String.format("%s -> %s%s: reference %s, switch %s (Datapath actions: %s)%s%n", c.name(cl.ip), t,
        tr.map(x -> " via " + x.backend()).orElse(""), want, got, actions,
        wrongEndpoint ? "; the trace DNATed to " + (picked == null ? "nothing" : picked) : ""));
    tr.ifPresent(x -> x.verdict().explanation().forEach(l -> m.append("    ").append(l).append('\n')));
    m.append("  $ ovs-appctl ofproto/trace ").append(bridge).append(" '").append(t.packet(cl, hashIn(trace))).append("'")
        .append(CT_STATES.stream().map(s -> " --ct-next '" + s + "'").collect(Collectors.joining())).append('\n');
    m.append(indent(trace, "    "));
    mismatches.add(m.toString());
  }

  private static int hashIn(String trace) {
    Matcher m = Pattern.compile("dp_hash=0x([0-9a-f]+)").matcher(trace);
    return m.find() ? Integer.parseInt(m.group(1), 16) : 1;
  }

  private static List<String> trace(List<String> packets) throws IOException {
    traces.addAndGet(packets.size());
    try {
      return unixctl.traces(bridge, packets, CT_STATES);
    } catch (IOException e) {
      // ovs-vswitchd went away (restarted by someone else): reconnect and try once more; flows are gone too, so fail
      unixctl.close();
      Ovs.ensureRunning();
      unixctl = DifferentialIT.Unixctl.connect();
      throw new IOException("ovs-vswitchd restarted during the case: " + e.getMessage(), e);
    }
  }

  /** The endpoint port an allowed translation to this address must leave by: its pod's, or the gateway's. */
  private static int portOf(Case c, String address) {
    List<Pod> pods = c.cluster.pods();
    for (int i = 0; i < pods.size(); i++) {
      for (String ip : pods.get(i).ips()) {
        if (sameAddress(ip, address)) {
          return i + 1;
        }
      }
    }
    return GATEWAY_PORT;
  }

  private static boolean sameAddress(String a, String b) {
    try {
      return java.net.InetAddress.getByName(a).equals(java.net.InetAddress.getByName(b));
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static String key(String address, int port) {
    try {
      return java.net.InetAddress.getByName(address).getHostAddress() + "#" + port;
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  private static final Pattern NAT = Pattern.compile("nat\\(dst=(?:\\[([0-9a-f:.]+)]|([0-9.]+)):(\\d+)\\)");

  /** The endpoint the trace's bucket DNATs to, as {@link #key}; null if none. */
  private static String dnat(String trace) {
    Matcher m = NAT.matcher(trace);
    if (!m.find()) {
      return null;
    }
    return key(m.group(1) != null ? m.group(1) : m.group(2), Integer.parseInt(m.group(3)));
  }

  private static Outcome outcome(String actions) {
    if (actions.equals("drop") || DifferentialIT.auditedDrop(actions)) {
      return new Outcome.Dropped(); // (an isolation drop sends the packet to the audit log, nowhere else)
    }
    if (actions.contains("userspace(") && actions.contains("controller(")) {
      return new Outcome.Refused();
    }
    List<String> outputs = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= actions.length(); i++) {
      char ch = i < actions.length() ? actions.charAt(i) : ',';
      if (ch == '(') {
        depth++;
      } else if (ch == ')') {
        depth--;
      } else if (ch == ',' && depth == 0) {
        String token = actions.substring(start, i).strip();
        if (token.matches("\\d+")) {
          outputs.add(token);
        }
        start = i + 1;
      }
    }
    if (outputs.size() == 1) {
      for (Map.Entry<Integer, String> e : dpPorts.entrySet()) {
        if (e.getValue().equals(outputs.get(0))) {
          return new Outcome.Output(e.getKey());
        }
      }
    }
    return new Outcome.Other(actions);
  }

  private static String lastDatapathActions(String trace) {
    String last = null;
    for (String l : trace.split("\n")) {
      if (l.startsWith("Datapath actions: ")) {
        last = l.substring("Datapath actions: ".length()).strip();
      }
    }
    if (last == null) {
      throw new AssertionError("no 'Datapath actions:' in trace output:\n" + trace);
    }
    return last;
  }

  private static String indent(String s, String by) {
    return s.lines().map(l -> by + l).collect(Collectors.joining("\n", "", "\n"));
  }

  // ------------------------------------------------------------------ the case

  enum Families {
    V4, V6, DUAL;

    List<Boolean> v6() {
      return switch (this) {
        case V4 -> List.of(false);
        case V6 -> List.of(true);
        case DUAL -> List.of(false, true);
      };
    }
  }

  enum Condition {
    READY(true, true, false), SERVING_TERMINATING(false, true, true), NOT_READY(false, false, false),
    TERMINATING(false, false, true);

    final boolean ready;
    final boolean serving;
    final boolean terminating;

    Condition(boolean ready, boolean serving, boolean terminating) {
      this.ready = ready;
      this.serving = serving;
      this.terminating = terminating;
    }
  }

  /** A port of a Service: its protocol, number and targetPort (a number, or a container port's name). */
  record PortSpec(Protocol protocol, int port, PortRef target) { }

  /** An endpoint: pod index (modulo the cluster's pods), or -1 for the address outside the cluster. */
  record MemberSpec(int pod, Condition condition) { }

  record ServiceSpec(int namespace, Families families, List<PortSpec> ports, List<MemberSpec> members,
                     boolean clientIpAffinity) { }

  /** A generated case: a DifferentialIT cluster and Services s1..sk with their slices. */
  record Case(Cluster cluster, List<Service> services, List<EndpointSlice> slices) {
    Snapshot snapshot() {
      Snapshot base = cluster.snapshot();
      Map<ObjectRef, Service> svcs = new TreeMap<>();
      services.forEach(s -> svcs.put(s.ref(), s));
      Map<ObjectRef, EndpointSlice> sls = new TreeMap<>();
      slices.forEach(s -> sls.put(s.ref(), s));
      return new Snapshot(1, base.namespaces(), base.pods(), base.bindings(), base.networkPolicies(), svcs, sls);
    }

    List<Target> targets() {
      List<Target> out = new ArrayList<>();
      for (Service s : services) {
        for (String vip : s.clusterIPs()) {
          for (Service.Port p : s.ports()) {
            out.add(new Target(vip, p.protocol(), p.port()));
          }
        }
      }
      return out;
    }

    List<Client> clients(boolean v6) {
      List<Client> out = new ArrayList<>();
      List<Pod> pods = cluster.pods();
      for (int i = 0; i < pods.size(); i++) {
        for (String ip : pods.get(i).ips()) {
          if ((ip.indexOf(':') >= 0) == v6) {
            out.add(new Client(ip, i + 1, mac(i + 1)));
          }
        }
      }
      for (String ip : v6 ? CLIENTS_V6 : CLIENTS_V4) {
        out.add(new Client(ip, EXTERNAL_PORT, "02:00:00:00:00:07"));
      }
      return out;
    }

    String name(String ip) {
      return cluster.name(ip);
    }

    String describe() {
      StringBuilder sb = new StringBuilder(cluster.describe());
      for (Service s : services) {
        sb.append("service ").append(s.ref()).append(' ').append(s.clusterIPs())
            .append(s.sessionAffinity() == Service.SessionAffinity.CLIENT_IP ? " affinity ClientIP" : "").append(" ports ")
            .append(s.ports().stream().map(p -> (p.name().isEmpty() ? "" : p.name() + "=") + p.protocol() + "/" + p.port()
                + "->" + p.targetPort()).toList()).append('\n');
      }
      for (EndpointSlice sl : slices) {
        sb.append("slice ").append(sl.ref()).append(" of ").append(sl.serviceName()).append(' ')
            .append(sl.addressType().kubernetesName()).append(" ports ")
            .append(sl.ports().stream().map(p -> (p.name().isEmpty() ? "\"\"" : p.name()) + "=" + p.protocol() + "/"
                + p.port().getAsInt()).toList()).append(" endpoints ")
            .append(sl.endpoints().stream().map(e -> e.addresses().get(0) + e.targetPod().map(r -> "(" + r + ")").orElse("")
                + (e.ready() ? "" : e.serving() ? " serving" : "") + (e.terminating() ? " terminating" : "")
                + (e.ready() || e.serving() || e.terminating() ? "" : " not-ready")).toList()).append('\n');
      }
      return sb.toString();
    }
  }

  // ------------------------------------------------------------------ generators

  private static final List<String> NS_NAMES = List.of("a", "b", "c");

  @Provide
  Arbitrary<Case> cases() {
    Arbitrary<PortSpec> port = Combinators.combine(Arbitraries.of(Protocol.class), Arbitraries.of(80, 53, 443),
        Arbitraries.frequencyOf(
            Tuple.of(3, Arbitraries.of(53, 80, 8080, 9090).map(PortRef::of)),
            Tuple.of(2, Arbitraries.of("http", "dns", "metrics").map(PortRef::of)))).as(PortSpec::new);
    Arbitrary<MemberSpec> member = Combinators.combine(
        Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.integers().between(0, MAX_PODS - 1)), Tuple.of(1, Arbitraries.just(-1))),
        Arbitraries.frequency(Tuple.of(6, Condition.READY), Tuple.of(2, Condition.SERVING_TERMINATING),
            Tuple.of(1, Condition.NOT_READY), Tuple.of(1, Condition.TERMINATING))).as(MemberSpec::new);
    Arbitrary<ServiceSpec> service = Combinators.combine(Arbitraries.integers().between(0, 2),
        Arbitraries.frequency(Tuple.of(5, Families.V4), Tuple.of(2, Families.V6), Tuple.of(3, Families.DUAL)),
        port.list().ofMinSize(1).ofMaxSize(2), member.list().ofMinSize(1).ofMaxSize(4),
        Arbitraries.frequency(Tuple.of(3, false), Tuple.of(1, true))).as(ServiceSpec::new);
    return Combinators.combine(DifferentialIT.clusterArbitrary(), service.list().ofMinSize(1).ofMaxSize(3))
        .as(ServiceDifferentialIT::build);
  }

  private static Case build(Cluster cluster, List<ServiceSpec> specs) {
    List<Service> services = new ArrayList<>();
    List<EndpointSlice> slices = new ArrayList<>();
    for (int s = 0; s < specs.size(); s++) {
      ServiceSpec spec = specs.get(s);
      ObjectRef ref = new ObjectRef(NS_NAMES.get(spec.namespace()), "s" + (s + 1));
      List<Service.Port> ports = new ArrayList<>();
      for (PortSpec p : spec.ports()) {
        if (ports.stream().noneMatch(q -> q.port() == p.port() && q.protocol() == p.protocol())) {
          ports.add(new Service.Port("", p.protocol(), p.port(), p.target(), 0));
        }
      }
      if (ports.size() > 1) {
        for (int i = 0; i < ports.size(); i++) {
          Service.Port p = ports.get(i);
          ports.set(i, new Service.Port(i == 0 ? "web" : "alt", p.protocol(), p.port(), p.targetPort(), 0));
        }
      }
      List<String> vips = new ArrayList<>();
      for (boolean v6 : spec.families().v6()) {
        vips.add(v6 ? "fd00:96::" + (s + 1) : "10.96.0." + (s + 1));
      }
      Service svc = new Service(ref, Service.Type.CLUSTER_IP, vips, ports, Map.of(),
          spec.clientIpAffinity() ? Service.SessionAffinity.CLIENT_IP : Service.SessionAffinity.NONE,
          spec.clientIpAffinity() ? 600 : 0);
      services.add(svc);
      for (boolean v6 : spec.families().v6()) {
        // the EndpointSlice controller: one slice per distinct set of resolved ports
        Map<List<EndpointSlice.Port>, List<EndpointSlice.Endpoint>> byPorts = new LinkedHashMap<>();
        for (MemberSpec m : spec.members()) {
          Pod pod = m.pod() < 0 ? null : cluster.pods().get(m.pod() % cluster.pods().size());
          String address = pod == null ? (v6 ? OUTSIDE_ENDPOINT_V6 : OUTSIDE_ENDPOINT_V4)
              : pod.ips().stream().filter(ip -> (ip.indexOf(':') >= 0) == v6).findFirst().orElse(null);
          if (address == null) {
            continue;
          }
          List<EndpointSlice.Port> resolved = new ArrayList<>();
          for (Service.Port p : ports) {
            OptionalInt n = targetOf(p, pod);
            if (n.isPresent()) {
              resolved.add(new EndpointSlice.Port(p.name(), p.protocol(), n));
            }
          }
          byPorts.computeIfAbsent(resolved, k -> new ArrayList<>()).add(new EndpointSlice.Endpoint(List.of(address),
              m.condition().ready, m.condition().serving, m.condition().terminating,
              Optional.ofNullable(pod).map(Pod::ref), "node"));
        }
        int k = 0;
        for (Map.Entry<List<EndpointSlice.Port>, List<EndpointSlice.Endpoint>> e : byPorts.entrySet()) {
          slices.add(new EndpointSlice(new ObjectRef(ref.namespace(), ref.name() + (v6 ? "-v6-" : "-v4-") + k++),
              ref.name(), v6 ? EndpointSlice.AddressType.IPV6 : EndpointSlice.AddressType.IPV4, e.getValue(), e.getKey()));
        }
      }
    }
    return new Case(cluster, services, slices);
  }

  /** A targetPort as the EndpointSlice controller resolves it for one endpoint: by name only on a pod. */
  private static OptionalInt targetOf(Service.Port p, Pod pod) {
    if (p.targetPort() instanceof PortRef.Numbered n) {
      return OptionalInt.of(n.number());
    }
    String name = ((PortRef.Named) p.targetPort()).name();
    if (pod == null) {
      return OptionalInt.empty();
    }
    for (Pod.NamedPort c : pod.ports()) {
      String proto = c.protocol().isEmpty() ? "TCP" : c.protocol();
      if (c.name().equals(name) && proto.equals(p.protocol().name())) {
        return OptionalInt.of(c.port());
      }
    }
    return OptionalInt.empty();
  }
}
