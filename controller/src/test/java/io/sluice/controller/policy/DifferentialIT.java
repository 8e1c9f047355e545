package io.sluice.controller.policy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.LabelSelector;
import io.sluice.model.LabelSelector.Operator;
import io.sluice.model.LabelSelector.Requirement;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.NetworkPolicy.Peer;
import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.Renderer;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.OfctlFormat;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.Verdict;
import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Differential test of the policy compiler against the reference evaluator on a real switch.
 *
 * <p>jqwik generates small clusters (2–3 namespace manifests out of a, b, c — so a pod may sit in a namespace without
 * manifest —, 3–6 pods with random labels, IPv4 10.77.x.y and/or IPv6 fd00::x:y addresses, named container ports
 * http/dns/metrics with different numbers and protocols per pod, a quarter of them with the outside address
 * 192.168.7.7 / 2001:db8::7 as their node's, status.hostIPs) and 1–4 NetworkPolicies (matchLabels and
 * In/NotIn/Exists/DoesNotExist selectors, Ingress/Egress/both, peers by podSelector, namespaceSelector, both, ipBlock
 * with except, empty from/to; ports numeric, named, ranges, protocol only, none; TCP, UDP, SCTP). Every pod is bound
 * to one netdev bridge at OpenFlow port i; addresses outside the cluster send from one extra port that is not a pod
 * (not LOCAL: the pipeline commits new connections from LOCAL, the node, without policy).
 *
 * <p>For each case the compiled flows replace the bridge's flows in one bundle, then for every ordered pair of
 * endpoints of one address family (pods, plus two outside addresses per family as sources and as destinations) and
 * two ports per protocol (one the destination's container ports resolve to, one of the numbers the policies mention,
 * their range ends and neighbours), {@code ofproto/trace ... --ct-next trk,new} is asked, and its last
 * {@code Datapath actions:} (drop or not) must equal {@link Verdict#allowed()}. The traces go to ovs-vswitchd's
 * unixctl socket (the JSON-RPC that {@code ovs-appctl} speaks), pipelined; a mismatch is re-traced with the
 * {@code ovs-appctl} command itself for the report.
 *
 * <p>Reproduce a failure with the seed jqwik prints: add {@code seed = "..."} to the {@code @Property} below (jqwik
 * also replays the last failing sample first, from {@code target/.jqwik-database}). 300 tries take about 30 s here
 * (about 68,000 traces); the two {@code @Example}s are the bugs the property found, kept as regressions.
 */
class DifferentialIT {
  /** The switch the generated pods are bound to (PortBinding), whatever bridge the flows are traced on. */
  static final long DPID = 0xd1ffL;
  private static final int MAX_PODS = 6;
  /** The port outside addresses send from: an internal port that is no pod. */
  static final int EXTERNAL_PORT = MAX_PODS + 1;
  static final List<String> EXTERNAL_V4 = List.of("10.77.1.200", "192.168.7.7");
  static final List<String> EXTERNAL_V6 = List.of("fd00::1:c8", "2001:db8::7");
  /** Numbers container ports and policy ports are drawn from. */
  private static final List<Integer> NUMBERS = List.of(53, 80, 5353, 8080, 9000, 9003, 9090);
  private static final int PORTS_PER_PROTOCOL = 2;

  private static Ovs ovs;
  private static String bridge;
  private static Unixctl unixctl;
  private static Path flowFile;
  private static final AtomicLong cases = new AtomicLong();
  private static final AtomicLong traces = new AtomicLong();
  private static final AtomicLong allowedTraces = new AtomicLong();
  private static final AtomicLong installNanos = new AtomicLong();
  private static final AtomicLong traceNanos = new AtomicLong();
  private static long started;

  @BeforeContainer
  static void bridgeWithPorts() throws IOException {
    ovs = new Ovs();
    bridge = ovs.bridge("dt", DPID, "OpenFlow13,OpenFlow14,OpenFlow15", 0);
    for (int i = 1; i <= EXTERNAL_PORT; i++) {
      String p = ovs.name("p" + i);
      Sh.run("ovs-vsctl", "add-port", bridge, p, "--", "set", "interface", p, "type=internal", "ofport_request=" + i);
      String got = Sh.run("ovs-vsctl", "get", "interface", p, "ofport").trim();
      if (!got.equals(Integer.toString(i))) {
        throw new AssertionError("interface " + p + " got ofport " + got + ", wanted " + i);
      }
    }
    flowFile = Files.createTempFile("sluice-differential", ".flows");
    unixctl = Unixctl.connect();
    started = System.nanoTime();
  }

  @AfterContainer
  static void cleanUp() throws IOException {
    long ms = (System.nanoTime() - started) / 1_000_000;
    System.out.printf("DifferentialIT: %d cases, %d traces (%d allowed) in %d ms; installing flows %d ms, tracing %d ms%n",
        cases.get(), traces.get(), allowedTraces.get(), ms, installNanos.get() / 1_000_000, traceNanos.get() / 1_000_000);
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

  // ------------------------------------------------------------------ the property

  @Property(tries = 300, shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
  void compiledTablesAgreeWithTheReferenceEvaluator(@ForAll("clusters") Cluster cluster) throws IOException {
    check(cluster);
  }

  /**
   * Found by the property: an ingress rule whose named port no selected pod has lost that (empty) clause, and its
   * peer clause alone became a plain allow of everything from the peers.
   */
  @Example
  void namedPortThatNoTargetHasAllowsNothing() throws IOException {
    Namespace a = new Namespace("a", Map.of(ReferenceEvaluator.NAMESPACE_NAME_LABEL, "a"));
    Pod p1 = new Pod(new ObjectRef("a", "p1"), Map.of(), List.of("10.77.0.1"), List.of(), false);
    Pod p2 = new Pod(new ObjectRef("a", "p2"), Map.of(), List.of("10.77.0.2"), List.of(), false);
    Pod p3 = new Pod(new ObjectRef("c", "p3"), Map.of("role", "a"), List.of("10.77.0.3"), List.of(), false);
    NetworkPolicy denyA = new NetworkPolicy(new ObjectRef("a", "pol1"), LabelSelector.EVERYTHING, Set.of(PolicyType.INGRESS),
        List.of(), List.of());
    NetworkPolicy named = new NetworkPolicy(new ObjectRef("c", "pol3"), LabelSelector.of(Map.of("role", "a")),
        Set.of(PolicyType.INGRESS), List.of(new NetworkPolicy.Rule(List.of(new Peer.Pods(Optional.empty(), LabelSelector.EVERYTHING)),
            List.of(new NetworkPolicy.Port(Protocol.UDP, Optional.of(PortRef.of("dns")), OptionalInt.empty())))), List.of());
    check(new Cluster(List.of(a), List.of(p1, p2, p3), List.of(denyA, named)));
  }

  /**
   * An egress named port towards an ipBlock: the pods the block covers are reached on their port only at the covered
   * addresses, not at their addresses of the other family.
   */
  @Example
  void namedPortBehindAnIpBlockStaysInTheBlocksFamily() throws IOException {
    Namespace a = new Namespace("a", Map.of(ReferenceEvaluator.NAMESPACE_NAME_LABEL, "a"));
    Pod p1 = new Pod(new ObjectRef("a", "p1"), Map.of("app", "a"), List.of("10.77.0.1", "fd00::1"), List.of(), false);
    Pod p2 = new Pod(new ObjectRef("a", "p2"), Map.of(), List.of("10.77.0.2", "fd00::2"),
        List.of(new Pod.NamedPort("http", 80, "TCP")), false);
    NetworkPolicy egress = new NetworkPolicy(new ObjectRef("a", "pol1"), LabelSelector.of(Map.of("app", "a")),
        Set.of(PolicyType.EGRESS), List.of(), List.of(new NetworkPolicy.Rule(List.of(new Peer.IpBlock("10.77.0.0/16", List.of())),
            List.of(new NetworkPolicy.Port(Protocol.TCP, Optional.of(PortRef.of("http")), OptionalInt.empty())))));
    check(new Cluster(List.of(a), List.of(p1, p2), List.of(egress)));
  }

  private static void check(Cluster cluster) throws IOException {
    cases.incrementAndGet();
    Snapshot snap = cluster.snapshot();
    List<Flow> flows = new ArrayList<>(new Renderer(PipelineProfile.ovs(), 1).render(snap, DPID).flows().values());
    flows.sort(Comparator.comparingInt(Flow::table).thenComparing(Comparator.comparingInt(Flow::priority).reversed())
        .thenComparing(OfctlFormat::flow));
    List<String> lines = flows.stream().map(f -> OfctlFormat.flow(f).strip()).toList();
    Files.write(flowFile, lines, StandardCharsets.UTF_8);
    List<Query> queries = cluster.queries();
    List<String> results;
    try {
      results = installAndTrace(queries);
    } catch (IOException e) {
      // ovs-vswitchd went away (restarted by someone else on a shared machine: the flows are gone too); once more
      System.out.println("DifferentialIT: " + e.getMessage() + "; reconnecting and retrying the case");
      unixctl.close();
      Ovs.ensureRunning();
      unixctl = Unixctl.connect();
      results = installAndTrace(queries);
    }

    ReferenceEvaluator oracle = new ReferenceEvaluator();
    List<String> mismatches = new ArrayList<>();
    int shown = 0;
    for (int i = 0; i < queries.size(); i++) {
      Query q = queries.get(i);
      Verdict v = oracle.evaluate(snap, Endpoint.ip(q.src), Endpoint.ip(q.dst), q.protocol, q.port);
      String actions = lastDatapathActions(results.get(i));
      boolean switchAllows = !actions.equals("drop") && !auditedDrop(actions);
      if (switchAllows) {
        allowedTraces.incrementAndGet();
      }
      if (switchAllows != v.allowed()) {
        StringBuilder m = new StringBuilder();
        m.append(String.format("%s -> %s %s %d: reference %s, switch %s (Datapath actions: %s)%n",
            cluster.name(q.src), cluster.name(q.dst), q.protocol, q.port, v.allowed() ? "ALLOWS" : "DENIES",
            switchAllows ? "allows" : "drops", actions));
        v.explanation().forEach(l -> m.append("    ").append(l).append('\n'));
        if (shown++ < 2) {
          String cli = "ovs-appctl ofproto/trace " + bridge + " '" + q.flow() + "' --ct-next 'trk,new'";
          Sh.Result r = Sh.exec(10, "ovs-appctl", "ofproto/trace", bridge, q.flow(), "--ct-next", "trk,new");
          m.append("  $ ").append(cli).append('\n').append(indent(r.out() + r.err(), "    "));
        }
        mismatches.add(m.toString());
      }
    }
    if (!mismatches.isEmpty()) {
      StringBuilder report = new StringBuilder();
      report.append(mismatches.size()).append(" of ").append(queries.size())
          .append(" connections judged differently by the reference evaluator and the compiled tables\n\n");
      report.append("CLUSTER\n").append(indent(cluster.describe(), "  ")).append('\n');
      report.append("MISMATCHES (first ").append(Math.min(8, mismatches.size())).append(")\n");
      mismatches.stream().limit(8).forEach(s -> report.append(indent(s, "  ")));
      report.append("\nCOMPILED FLOWS (policy tables 30, 40)\n");
      lines.stream().filter(l -> l.contains("table=30,") || l.contains("table=40,")).forEach(l -> report.append("  ").append(l).append('\n'));
      throw new AssertionError(report.toString());
    }
  }

  private static List<String> installAndTrace(List<Query> queries) throws IOException {
    long t0 = System.nanoTime();
    Sh.run("ovs-ofctl", "-O", "OpenFlow15", "del-meters", bridge);
    for (io.sluice.renderer.flow.Meter m : PipelineProfile.ovs().baseMeters()) { // the audit meters
      Sh.run("ovs-ofctl", "-O", "OpenFlow15", "add-meter", bridge, "meter=" + m.id() + ",pktps,burst,band=type=drop,rate="
          + m.rate() + ",burst_size=" + m.burstSize());
    }
    Sh.run("ovs-ofctl", "-O", "OpenFlow15", "--bundle", "replace-flows", bridge, flowFile.toString());
    long t1 = System.nanoTime();
    installNanos.addAndGet(t1 - t0);
    List<String> results = unixctl.traces(bridge, queries.stream().map(Query::flow).toList());
    traceNanos.addAndGet(System.nanoTime() - t1);
    traces.addAndGet(queries.size());
    return results;
  }

  /**
   * An isolation drop as the datapath runs it: nothing is output, the packet only goes through the audit meter to the
   * controller ({@code meter(N),userspace(...controller(...rule_cookie=0x5c05...))}, cookie category 5).
   */
  static boolean auditedDrop(String actions) {
    if (!actions.contains("controller(") || !actions.contains("rule_cookie=0x5c05")) {
      return false;
    }
    int depth = 0;
    int start = 0;
    for (int i = 0; i <= actions.length(); i++) {
      char ch = i < actions.length() ? actions.charAt(i) : ',';
      if (ch == '(') {
        depth++;
      } else if (ch == ')') {
        depth--;
      } else if (ch == ',' && depth == 0) {
        if (actions.substring(start, i).strip().matches("\\d+")) {
          return false; // output to a port
        }
        start = i + 1;
      }
    }
    return true;
  }

  static String lastDatapathActions(String trace) {
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

  static String indent(String s, String by) {
    return s.lines().map(l -> by + l).collect(Collectors.joining("\n", "", "\n"));
  }

  // ------------------------------------------------------------------ the cluster

  /** Where pod labels, namespace labels and selectors draw from: small, so selectors select something. */
  private static final List<String> POD_KEYS = List.of("app", "role");
  private static final List<String> POD_VALUES = List.of("a", "b", "c");
  private static final List<String> NS_NAMES = List.of("a", "b", "c");
  private static final List<String> NS_KEYS = List.of("team", "env", ReferenceEvaluator.NAMESPACE_NAME_LABEL);
  private static final List<String> NS_VALUES = List.of("a", "b", "c");
  private static final List<String> PORT_NAMES = List.of("http", "dns", "metrics");

  enum Families {
    V4, V6, V4V6, V6V4;

    List<String> ips(int subnet, int index) {
      String v4 = "10.77." + subnet + "." + (index + 1);
      String v6 = "fd00::" + subnet + ":" + (index + 1);
      return switch (this) {
        case V4 -> List.of(v4);
        case V6 -> List.of(v6);
        case V4V6 -> List.of(v4, v6);
        case V6V4 -> List.of(v6, v4);
      };
    }
  }

  /** onNode: the pod's node (status.hostIPs) is the outside address 192.168.7.7 / 2001:db8::7. */
  record PodSpec(int namespace, Map<String, String> labels, int subnet, Families families, List<Pod.NamedPort> ports,
                 boolean onNode) { }

  record NamespaceSpec(Map<String, String> labels, boolean nameLabel) { }

  record PolicySpec(int namespace, LabelSelector podSelector, Set<PolicyType> types, List<NetworkPolicy.Rule> ingress,
                    List<NetworkPolicy.Rule> egress) { }

  /**
   * A generated case: namespaces with manifests, pods p1..pn (pod i on port i), policies pol1..polk. When
   * {@code shared}, p1 and p2 both sit behind port 1, the attachment of node n1 (a top-of-rack port): n1's own
   * address (the second outside address, every "on node" pod's node) sends from port 1 too.
   */
  record Cluster(List<Namespace> namespaces, List<Pod> pods, List<NetworkPolicy> policies, boolean shared) {
    Cluster(List<Namespace> namespaces, List<Pod> pods, List<NetworkPolicy> policies) {
      this(namespaces, pods, policies, false);
    }

    /** The port pod i (0-based) sits behind. */
    int port(int i) {
      return shared && i == 1 ? 1 : i + 1;
    }

    /** The port an address sends from: its pod's, the attached node's, or the outside port. */
    int portOf(String ip) {
      for (int i = 0; i < pods.size(); i++) {
        if (pods.get(i).ips().contains(ip)) {
          return port(i);
        }
      }
      return shared && (ip.equals(EXTERNAL_V4.get(1)) || ip.equals(EXTERNAL_V6.get(1))) ? 1 : EXTERNAL_PORT;
    }

    Snapshot snapshot() {
      Map<String, Namespace> ns = new TreeMap<>();
      namespaces.forEach(n -> ns.put(n.name(), n));
      Map<ObjectRef, Pod> ps = new TreeMap<>();
      Map<ObjectRef, PortBinding> bs = new TreeMap<>();
      for (int i = 0; i < pods.size(); i++) {
        Pod p = pods.get(i);
        ps.put(p.ref(), p);
        boolean attached = shared && i <= 1;
        bs.put(p.ref(), attached ? new PortBinding(p.ref(), DPID, port(i), null, true)
            : new PortBinding(p.ref(), DPID, port(i), String.format("0a:58:00:00:00:%02x", i + 1)));
      }
      Map<ObjectRef, NetworkPolicy> nps = new TreeMap<>();
      policies.forEach(p -> nps.put(p.ref(), p));
      Map<String, io.sluice.model.Node> nodes = !shared ? Map.of() : Map.of("n1", new io.sluice.model.Node("n1", Map.of(),
          List.of(EXTERNAL_V4.get(1), EXTERNAL_V6.get(1)), Set.of(), new io.sluice.model.Node.Attachment(DPID, 1)));
      return new Snapshot(1, ns, ps, bs, nps, Map.of(), Map.of(), Map.of(), nodes);
    }

    String name(String ip) {
      for (Pod p : pods) {
        if (p.ips().contains(ip)) {
          return p.ref() + "(" + ip + ")";
        }
      }
      return ip;
    }

    /** Every ordered pair of one family (no outside-to-outside), two ports per protocol, chosen reproducibly. */
    List<Query> queries() {
      Random random = new Random(describe().hashCode());
      TreeSet<Integer> mentioned = new TreeSet<>(NUMBERS);
      mentioned.add(4242);
      for (NetworkPolicy np : policies) {
        for (NetworkPolicy.Rule r : concat(np.ingress(), np.egress())) {
          for (NetworkPolicy.Port port : r.ports()) {
            if (port.port().orElse(null) instanceof PortRef.Numbered n) {
              int end = port.endPort().orElse(n.number());
              mentioned.addAll(List.of(n.number(), end, Math.max(1, n.number() - 1), Math.min(65535, end + 1)));
            }
          }
        }
      }
      List<Integer> candidates = List.copyOf(mentioned);
      List<Query> out = new ArrayList<>();
      for (boolean v6 : List.of(false, true)) {
        List<String[]> sources = new ArrayList<>();  // {ip, ofport, destination's container port numbers}
        List<String[]> destinations = new ArrayList<>();
        for (int i = 0; i < pods.size(); i++) {
          for (String ip : pods.get(i).ips()) {
            if (ip.contains(":") == v6) {
              String numbers = pods.get(i).ports().stream().map(c -> Integer.toString(c.port())).collect(Collectors.joining(","));
              sources.add(new String[] {ip, Integer.toString(port(i)), numbers});
              destinations.add(new String[] {ip, Integer.toString(port(i)), numbers});
            }
          }
        }
        if (sources.isEmpty()) {
          continue;
        }
        List<String[]> pods = List.copyOf(sources);
        for (String ext : v6 ? EXTERNAL_V6 : EXTERNAL_V4) {
          sources.add(new String[] {ext, Integer.toString(portOf(ext)), ""});
          destinations.add(new String[] {ext, "", ""});
        }
        for (String[] s : sources) {
          for (String[] d : destinations) {
            if (!pods.contains(s) && !pods.contains(d)) {
              continue; // outside to outside: no pod involved
            }
            for (Protocol proto : Protocol.values()) {
              List<Integer> own = d[2].isEmpty() ? List.of()
                  : java.util.Arrays.stream(d[2].split(",")).map(Integer::valueOf).toList();
              Set<Integer> ports = new TreeSet<>();
              ports.add(own.isEmpty() ? candidates.get(random.nextInt(candidates.size())) : own.get(random.nextInt(own.size())));
              while (ports.size() < PORTS_PER_PROTOCOL) {
                ports.add(candidates.get(random.nextInt(candidates.size())));
              }
              for (int port : ports) {
                out.add(new Query(Integer.parseInt(s[1]), s[0], d[0], v6, proto, port));
              }
            }
          }
        }
      }
      return out;
    }

    String describe() {
      StringBuilder sb = new StringBuilder();
      for (Namespace n : namespaces) {
        sb.append("namespace ").append(n.name()).append(' ').append(new TreeMap<>(n.labels())).append('\n');
      }
      for (String n : NS_NAMES) {
        if (namespaces.stream().noneMatch(x -> x.name().equals(n)) && pods.stream().anyMatch(p -> p.ref().namespace().equals(n))) {
          sb.append("namespace ").append(n).append(" (no manifest)\n");
        }
      }
      for (int i = 0; i < pods.size(); i++) {
        Pod p = pods.get(i);
        sb.append("pod ").append(p.ref()).append(" port ").append(port(i)).append(' ').append(new TreeMap<>(p.labels()))
            .append(' ').append(p.ips()).append(" ports ")
            .append(p.ports().stream().map(c -> c.name() + "=" + c.protocol() + "/" + c.port()).toList())
            .append(p.hostIps().isEmpty() ? "" : " node " + p.hostIps()).append('\n');
      }
      for (NetworkPolicy np : policies) {
        sb.append("policy ").append(np.ref()).append(" selects ").append(selector(np.podSelector())).append(" types ")
            .append(np.policyTypes().stream().map(PolicyType::kubernetesName).sorted().toList()).append('\n');
        for (int i = 0; i < np.ingress().size(); i++) {
          sb.append("  ingress ").append(i).append(": ").append(rule(np.ingress().get(i), "from")).append('\n');
        }
        for (int i = 0; i < np.egress().size(); i++) {
          sb.append("  egress ").append(i).append(": ").append(rule(np.egress().get(i), "to")).append('\n');
        }
      }
      return sb.toString();
    }

    private static String rule(NetworkPolicy.Rule r, String word) {
      String peers = r.peers().isEmpty() ? word + " anywhere" : word + " " + r.peers().stream().map(p -> {
        if (p instanceof Peer.Pods pods) {
          return "{" + pods.namespaceSelector().map(s -> "ns " + selector(s) + " ").orElse("") + "pods " + selector(pods.podSelector()) + "}";
        }
        Peer.IpBlock b = (Peer.IpBlock) p;
        return "{ipBlock " + b.cidr() + (b.except().isEmpty() ? "" : " except " + b.except()) + "}";
      }).collect(Collectors.joining(" or "));
      String ports = r.ports().isEmpty() ? "all ports" : "ports " + r.ports().stream().map(p -> p.protocol() + "/"
          + p.port().map(Object::toString).orElse("*") + (p.endPort().isPresent() ? "-" + p.endPort().getAsInt() : ""))
          .collect(Collectors.joining(","));
      return peers + " on " + ports;
    }

    private static String selector(LabelSelector s) {
      if (s.selectsEverything()) {
        return "{}";
      }
      List<String> parts = new ArrayList<>();
      new TreeMap<>(s.matchLabels()).forEach((k, v) -> parts.add(k + "=" + v));
      for (Requirement r : s.matchExpressions()) {
        parts.add(r.key() + " " + r.operator().kubernetesName() + (r.values().isEmpty() ? "" : " " + r.values()));
      }
      return "{" + String.join(", ", parts) + "}";
    }
  }

  private static <T> List<T> concat(List<T> a, List<T> b) {
    List<T> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  /** One connection to judge: a new one from src (sent on ofport) to dst. */
  record Query(int ofport, String src, String dst, boolean v6, Protocol protocol, int port) {
    String flow() {
      String p = protocol.name().toLowerCase(java.util.Locale.ROOT);
      return v6
          ? String.format("in_port=%d,%s6,ipv6_src=%s,ipv6_dst=%s,%s_dst=%d", ofport, p, src, dst, p, port)
          : String.format("in_port=%d,%s,nw_src=%s,nw_dst=%s,%s_dst=%d", ofport, p, src, dst, p, port);
    }
  }

  // ------------------------------------------------------------------ generators

  @Provide
  Arbitrary<Cluster> clusters() {
    return mayShareArbitrary();
  }

  /**
   * Random clusters whose pods sit on ports of their own, or (one in three) two of them behind one port with their
   * node's own address ({@link Cluster#shared}).
   */
  static Arbitrary<Cluster> mayShareArbitrary() {
    return Combinators.combine(clusterArbitrary(), Arbitraries.frequency(Tuple.of(2, false), Tuple.of(1, true)))
        .as((c, shared) -> new Cluster(c.namespaces(), c.pods(), c.policies(), shared));
  }

  /** Random clusters: namespaces, pods and policies (shared with {@link ServiceDifferentialIT}). */
  static Arbitrary<Cluster> clusterArbitrary() {
    Arbitrary<NamespaceSpec> nsSpec = Combinators.combine(
        Arbitraries.maps(Arbitraries.of("team", "env"), Arbitraries.of("a", "b")).ofMaxSize(2),
        Arbitraries.of(true, true, false)).as(NamespaceSpec::new);
    Arbitrary<List<NamespaceSpec>> namespaces = nsSpec.list().ofMinSize(2).ofMaxSize(3);
    Arbitrary<List<PodSpec>> pods = podSpec().list().ofMinSize(3).ofMaxSize(MAX_PODS);
    Arbitrary<List<PolicySpec>> policies = policySpec().list().ofMinSize(1).ofMaxSize(4);
    return Combinators.combine(namespaces, pods, policies).as(DifferentialIT::cluster);
  }

  private static Cluster cluster(List<NamespaceSpec> nsSpecs, List<PodSpec> podSpecs, List<PolicySpec> policySpecs) {
    List<Namespace> namespaces = new ArrayList<>();
    for (int i = 0; i < nsSpecs.size(); i++) {
      String name = NS_NAMES.get(i);
      Map<String, String> labels = new TreeMap<>(nsSpecs.get(i).labels());
      if (nsSpecs.get(i).nameLabel()) {
        labels.put(ReferenceEvaluator.NAMESPACE_NAME_LABEL, name);
      }
      namespaces.add(new Namespace(name, labels));
    }
    List<Pod> pods = new ArrayList<>();
    for (int i = 0; i < podSpecs.size(); i++) {
      PodSpec s = podSpecs.get(i);
      pods.add(new Pod(new ObjectRef(NS_NAMES.get(s.namespace()), "p" + (i + 1)), s.labels(), s.families().ips(s.subnet(), i),
          s.ports(), false, s.onNode() ? List.of(EXTERNAL_V4.get(1), EXTERNAL_V6.get(1)) : List.of()));
    }
    List<NetworkPolicy> policies = new ArrayList<>();
    for (int i = 0; i < policySpecs.size(); i++) {
      PolicySpec s = policySpecs.get(i);
      policies.add(new NetworkPolicy(new ObjectRef(NS_NAMES.get(s.namespace()), "pol" + (i + 1)), s.podSelector(), s.types(),
          s.ingress(), s.egress()));
    }
    return new Cluster(namespaces, pods, policies);
  }

  private static Arbitrary<PodSpec> podSpec() {
    Arbitrary<Pod.NamedPort> containerPort = Combinators.combine(Arbitraries.of(PORT_NAMES), Arbitraries.of(NUMBERS),
        Arbitraries.of("TCP", "UDP", "SCTP", "")).as(Pod.NamedPort::new);
    return Combinators.combine(
        Arbitraries.integers().between(0, 2),
        Arbitraries.maps(Arbitraries.of(POD_KEYS), Arbitraries.of(POD_VALUES)).ofMaxSize(2),
        Arbitraries.integers().between(0, 2),
        Arbitraries.frequencyOf(Tuple.of(5, Arbitraries.just(Families.V4)), Tuple.of(1, Arbitraries.just(Families.V6)),
            Tuple.of(3, Arbitraries.just(Families.V4V6)), Tuple.of(1, Arbitraries.just(Families.V6V4))),
        containerPort.list().ofMaxSize(3).uniqueElements(Pod.NamedPort::name),
        Arbitraries.frequency(Tuple.of(3, false), Tuple.of(1, true))).as(PodSpec::new);
  }

  private static Arbitrary<PolicySpec> policySpec() {
    Arbitrary<Set<PolicyType>> types = Arbitraries.of(Set.of(PolicyType.INGRESS), Set.of(PolicyType.EGRESS),
        Set.of(PolicyType.INGRESS, PolicyType.EGRESS));
    Arbitrary<List<NetworkPolicy.Rule>> rules = rule().list().ofMaxSize(2);
    return Combinators.combine(Arbitraries.integers().between(0, 2), selector(POD_KEYS, POD_VALUES), types, rules, rules)
        .as(PolicySpec::new);
  }

  private static Arbitrary<NetworkPolicy.Rule> rule() {
    Arbitrary<List<Peer>> peers = Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just(List.<Peer>of())),
        Tuple.of(4, peer().list().ofMinSize(1).ofMaxSize(3)));
    Arbitrary<List<NetworkPolicy.Port>> ports = Arbitraries.frequencyOf(
        Tuple.of(1, Arbitraries.just(List.<NetworkPolicy.Port>of())),
        Tuple.of(4, port().list().ofMinSize(1).ofMaxSize(3)));
    return Combinators.combine(peers, ports).as(NetworkPolicy.Rule::new);
  }

  private static Arbitrary<Peer> peer() {
    Arbitrary<LabelSelector> podSel = selector(POD_KEYS, POD_VALUES);
    Arbitrary<LabelSelector> nsSel = selector(NS_KEYS, NS_VALUES);
    return Arbitraries.frequencyOf(
        Tuple.of(3, podSel.map(s -> new Peer.Pods(Optional.empty(), s))),
        Tuple.of(2, nsSel.map(s -> new Peer.Pods(Optional.of(s), LabelSelector.EVERYTHING))),
        Tuple.of(2, Combinators.combine(nsSel, podSel).as((n, p) -> new Peer.Pods(Optional.of(n), p))),
        Tuple.of(3, ipBlock()));
  }

  /** A CIDR and the strict subsets an except may name. */
  private record Block(String cidr, List<String> excepts) { }

  private static final List<Block> BLOCKS = List.of(
      new Block("10.77.0.0/16", List.of("10.77.1.0/24", "10.77.0.0/24", "10.77.2.0/25", "10.77.0.2/32", "10.77.1.3/32")),
      new Block("10.77.1.0/24", List.of("10.77.1.0/28", "10.77.1.2/32", "10.77.1.4/31", "10.77.1.200/32")),
      new Block("10.0.0.0/8", List.of("10.77.0.0/16", "10.77.2.0/24")),
      new Block("0.0.0.0/0", List.of("10.77.0.0/16", "10.77.0.0/24", "192.168.0.0/16")),
      new Block("10.77.0.3/32", List.of()),
      new Block("192.168.0.0/16", List.of("192.168.7.0/24")),
      new Block("fd00::/64", List.of("fd00::1:0/112", "fd00::2/128", "fd00::1:3/128")),
      new Block("::/0", List.of("fd00::/64", "fd00::/112")),
      new Block("fd00::1:0/112", List.of("fd00::1:2/127", "fd00::1:c8/128")),
      new Block("2001:db8::/32", List.of("2001:db8::7/128")));

  private static Arbitrary<Peer> ipBlock() {
    return Arbitraries.of(BLOCKS).flatMap(b -> b.excepts().isEmpty()
        ? Arbitraries.just(new Peer.IpBlock(b.cidr(), List.of()))
        : Arbitraries.subsetOf(b.excepts()).ofMaxSize(2).map(ex -> new Peer.IpBlock(b.cidr(), List.copyOf(new TreeSet<>(ex)))));
  }

  private static Arbitrary<NetworkPolicy.Port> port() {
    Arbitrary<Protocol> proto = Arbitraries.of(Protocol.class);
    Arbitrary<NetworkPolicy.Port> protocolOnly = proto.map(p -> new NetworkPolicy.Port(p, Optional.empty(), OptionalInt.empty()));
    Arbitrary<NetworkPolicy.Port> numeric = Combinators.combine(proto, Arbitraries.of(NUMBERS)).as(NetworkPolicy.Port::of);
    Arbitrary<NetworkPolicy.Port> range = Combinators.combine(proto, Arbitraries.of(53, 79, 8080, 9000, 9001, 5000),
        Arbitraries.of(0, 1, 3, 7, 10, 100, 4000)).as((p, from, len) ->
        new NetworkPolicy.Port(p, Optional.of(PortRef.of(from)), OptionalInt.of(from + len)));
    Arbitrary<NetworkPolicy.Port> named = Combinators.combine(proto, Arbitraries.of(PORT_NAMES)).as((p, n) ->
        new NetworkPolicy.Port(p, Optional.of(PortRef.of(n)), OptionalInt.empty()));
    return Arbitraries.frequencyOf(Tuple.of(1, protocolOnly), Tuple.of(3, numeric), Tuple.of(2, range), Tuple.of(3, named));
  }

  private static Arbitrary<LabelSelector> selector(List<String> keys, List<String> values) {
    Arbitrary<Requirement> requirement = Combinators.combine(Arbitraries.of(keys), Arbitraries.of(Operator.class),
        Arbitraries.subsetOf(values).ofMinSize(1).ofMaxSize(2)).as((k, op, vs) ->
        new Requirement(k, op, op == Operator.IN || op == Operator.NOT_IN ? List.copyOf(vs) : List.of()));
    return Combinators.combine(
        Arbitraries.maps(Arbitraries.of(keys), Arbitraries.of(values)).ofMaxSize(2),
        requirement.list().ofMaxSize(2)).as(LabelSelector::new);
  }

  // ------------------------------------------------------------------ ofproto/trace over unixctl

  /**
   * A client of ovs-vswitchd's unixctl socket, the JSON-RPC that {@code ovs-appctl} speaks: one connection, requests
   * pipelined by a writer thread while this one reads the replies (vswitchd answers them in order).
   */
  static final class Unixctl implements AutoCloseable {
    private final SocketChannel channel;
    private final InputStream stream;
    private JsonParser in;
    private final ObjectMapper json = new ObjectMapper();
    private long nextId;

    private Unixctl(SocketChannel channel) throws IOException {
      this.channel = channel;
      // Not Channels.newInputStream/newOutputStream: both lock the channel's blockingLock, so a reader blocked for a
      // reply would keep the writer from sending the request it waits for.
      this.stream = new InputStream() {
        @Override
        public int read() throws IOException {
          byte[] one = new byte[1];
          return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
          return channel.read(ByteBuffer.wrap(b, off, len));
        }
      };
    }

    static Unixctl connect() throws IOException {
      String pid = Files.readString(Path.of("/var/run/openvswitch/ovs-vswitchd.pid")).strip();
      SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
      ch.connect(UnixDomainSocketAddress.of("/var/run/openvswitch/ovs-vswitchd." + pid + ".ctl"));
      return new Unixctl(ch);
    }

    /**
     * ofproto/trace BR FLOW --ct-next trk,new for each flow; the trace texts in order. Requests are written by another
     * thread while this one reads the replies; everything is bounded by a watchdog that closes the channel.
     */
    List<String> traces(String br, List<String> flows) throws IOException {
      return traces(br, flows, List.of("trk,new"));
    }

    /**
     * ofproto/trace BR FLOW with one {@code --ct-next} per state given (conntrack's answer to each ct() that
     * recirculates, in order), for each flow; the trace texts in order.
     */
    List<String> traces(String br, List<String> flows, List<String> ctStates) throws IOException {
      long first = nextId;
      nextId += flows.size();
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          for (int i = 0; i < flows.size(); i++) {
            ObjectNode req = json.createObjectNode();
            req.put("id", first + i);
            req.put("method", "ofproto/trace");
            ArrayNode params = req.putArray("params");
            params.add(br).add(flows.get(i));
            ctStates.forEach(st -> params.add("--ct-next").add(st));
            ByteBuffer buf = ByteBuffer.wrap(json.writeValueAsBytes(req));
            while (buf.hasRemaining()) {
              channel.write(buf);
            }
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      java.util.concurrent.ScheduledFuture<?> watchdog = WATCHDOG.schedule(() -> {
        try {
          channel.close();
        } catch (IOException ignored) {
          // closing anyway
        }
      }, 60, java.util.concurrent.TimeUnit.SECONDS);
      try {
        if (in == null) {
          in = json.getFactory().createParser(stream); // not earlier: it reads ahead to detect the encoding
        }
        List<String> results = new ArrayList<>(flows.size());
        for (int i = 0; i < flows.size(); i++) {
          if (in.nextToken() == null) {
            throw new IOException("ovs-vswitchd closed the unixctl connection");
          }
          JsonNode reply = json.readTree(in);
          if (reply.path("id").asLong(-1) != first + i) {
            throw new AssertionError("unixctl reply out of order: " + reply);
          }
          if (!reply.path("error").isNull() && !reply.path("error").isMissingNode()) {
            throw new AssertionError("ofproto/trace " + br + " '" + flows.get(i) + "' failed: " + reply.path("error").asText());
          }
          results.add(reply.path("result").asText());
        }
        writer.join();
        return results;
      } finally {
        watchdog.cancel(false);
      }
    }

    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "unixctl-watchdog");
          t.setDaemon(true);
          return t;
        });

    @Override
    public void close() throws IOException {
      if (in != null) {
        in.close();
      }
      channel.close();
    }
  }
}
