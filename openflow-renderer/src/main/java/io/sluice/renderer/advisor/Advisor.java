package io.sluice.renderer.advisor;

import io.sluice.model.LabelSelector;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Addresses;
import io.sluice.renderer.reference.Endpoint;
import io.sluice.renderer.reference.ReferenceEvaluator;
import io.sluice.renderer.reference.ServiceResolver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Least-privilege NetworkPolicies from observed connections, as {@code sluice advise} proposes them.
 *
 * <p>Pods are grouped into workloads by their labels, never by their addresses: the labels a controller varies per
 * revision or per pod ({@link #VOLATILE_LABELS}) are dropped, and of the rest the smallest set that selects the same
 * pods of the namespace is kept (well-known keys such as {@code app.kubernetes.io/name} and {@code app} first). Each
 * workload that took part in an observed connection gets one policy, {@code advised-<label values>}, that isolates
 * it in the asked directions and allows exactly what was seen: per peer workload (in another namespace through
 * {@code kubernetes.io/metadata.name}) or per address outside the cluster ({@code /32}, {@code /128}), the ports
 * seen, by the destination pod's container port name where it has one. Peers with the same ports share a rule.
 *
 * <p>A connection to a Service's virtual address is judged, as NetworkPolicy is, for each endpoint it may reach.
 * Traffic between a pod and its own node is always allowed and proposes nothing. The proposal is then checked with
 * the {@link ReferenceEvaluator} against every observed connection (together with the policies already there);
 * the ones it would still deny are listed in {@link Advice#stillDenied()}. Pure: no I/O.
 */
public final class Advisor {
  /** Labels that differ between the pods of one workload (per revision, per pod): never selected on. */
  public static final Set<String> VOLATILE_LABELS = Set.of("pod-template-hash", "controller-revision-hash",
      "statefulset.kubernetes.io/pod-name", "pod-template-generation", "apps.kubernetes.io/pod-index",
      "controller-uid", "batch.kubernetes.io/controller-uid");
  /** Label keys tried first when choosing a workload's selector. */
  public static final List<String> PREFERRED_KEYS = List.of("app.kubernetes.io/name", "app", "k8s-app", "name",
      "app.kubernetes.io/instance", "app.kubernetes.io/component", "component", "tier", "role");
  /** Every proposed policy's name starts so. */
  public static final String NAME_PREFIX = "advised-";
  private static final int MAX_SUBSET = 3;

  /**
   * @param ingress         propose ingress isolation and rules
   * @param egress          propose egress isolation and rules
   * @param namespaces      propose only for pods of these namespaces (empty: every namespace)
   * @param legacyIsolation evaluate as {@code sluice run --legacy-isolation} does
   */
  public record Options(boolean ingress, boolean egress, Set<String> namespaces, boolean legacyIsolation) {
    public Options {
      if (!ingress && !egress) {
        throw new IllegalArgumentException("propose at least one of ingress and egress");
      }
      namespaces = Set.copyOf(namespaces);
    }

    public static Options defaults() {
      return new Options(true, true, Set.of(), false);
    }

    boolean wants(String namespace) {
      return namespaces.isEmpty() || namespaces.contains(namespace);
    }
  }

  /**
   * What {@link #advise} proposes.
   *
   * @param policies    the proposed policies, sorted by namespace and name
   * @param stillDenied distinct observed connections that the current policies together with the proposal deny
   * @param notes       what could not be turned into a rule, and why (one line each, no repeats)
   * @param observed    connections observed (the sum of the counts)
   * @param distinct    distinct (source, destination, protocol, port) among them
   */
  public record Advice(List<NetworkPolicy> policies, List<Connection> stillDenied, List<String> notes, long observed,
                       int distinct) {
    public Advice {
      policies = List.copyOf(policies);
      stillDenied = List.copyOf(stillDenied);
      notes = List.copyOf(notes);
    }
  }

  /** The pods a policy selects: a namespace and a label selector. */
  record Workload(String namespace, LabelSelector selector, String key) implements Peer {
    Workload(String namespace, LabelSelector selector) {
      this(namespace, selector, "0 " + namespace + " " + new TreeMap<>(selector.matchLabels()));
    }
  }

  /** An address outside every pod, as a one-address CIDR. */
  record Block(String cidr) implements Peer {
    @Override
    public String key() {
      return "1 " + cidr;
    }
  }

  sealed interface Peer permits Workload, Block {
    String key();
  }

  record PortKey(Protocol protocol, PortRef port) {
    String key() {
      String p = port instanceof PortRef.Numbered n ? String.format("%05d", n.number()) : "~" + port;
      return protocol.ordinal() + " " + p;
    }
  }

  private static final Comparator<Peer> PEERS = Comparator.comparing(Peer::key);
  private static final Comparator<PortKey> PORTS = Comparator.comparing(PortKey::key);

  private final Snapshot snap;
  private final Options options;
  private final Map<String, Pod> podByAddress = new HashMap<>();
  private final Map<String, List<Pod>> podsByNamespace = new HashMap<>();
  private final Map<List<Object>, Optional<Workload>> workloadCache = new HashMap<>();
  private final Map<Workload, Map<Peer, Set<PortKey>>> ingress = new TreeMap<>(PEERS);
  private final Map<Workload, Map<Peer, Set<PortKey>>> egress = new TreeMap<>(PEERS);
  private final Set<Workload> involved = new TreeSet<>(PEERS);
  private final Set<String> notes = new LinkedHashSet<>();

  private Advisor(Snapshot snap, Options options) {
    this.snap = snap;
    this.options = options;
    for (Pod p : snap.pods().values()) {
      if (!p.terminal()) {
        podsByNamespace.computeIfAbsent(p.ref().namespace(), k -> new ArrayList<>()).add(p);
      }
    }
    podByAddress.putAll(Observed.podsByAddress(snap));
  }

  /** Proposes policies that allow exactly the observed connections (see the class comment). */
  public static Advice advise(Snapshot snap, Collection<Connection> observed, Options options) {
    Objects.requireNonNull(snap, "snap");
    Objects.requireNonNull(options, "options");
    Map<Connection, Long> distinct = Observed.distinct(observed);
    long total = distinct.values().stream().mapToLong(Long::longValue).sum();
    Advisor a = new Advisor(snap, options);
    for (Connection c : distinct.keySet()) {
      a.observe(c);
    }
    List<NetworkPolicy> policies = a.policies();
    List<Connection> stillDenied = a.check(policies, distinct);
    return new Advice(policies, stillDenied, new ArrayList<>(a.notes), total, distinct.size());
  }

  private void observe(Connection c) {
    String source = Addresses.canonical(c.source());
    String destination = Addresses.canonical(c.destination());
    if (source == null || destination == null) {
      notes.add(c + ": not an IP address on both ends, ignored");
      return;
    }
    Optional<ServiceResolver.Resolved> vip = ServiceResolver.byVirtualAddress(snap, destination, c.protocol(), c.port());
    if (vip.isPresent()) {
      if (vip.get().backends().isEmpty()) {
        notes.add(c + ": Service " + vip.get().service().ref() + " has no endpoint now, so nothing to allow");
      }
      for (ServiceResolver.Backend b : vip.get().backends()) {
        String d = Addresses.canonical(b.address());
        if (d != null) {
          observe(c, source, d, b.port());
        }
      }
      return;
    }
    observe(c, source, destination, c.port());
  }

  private void observe(Connection c, String source, String destination, int port) {
    Pod from = podByAddress.get(source);
    Pod to = podByAddress.get(destination);
    if (from == null && to == null) {
      notes.add(c + ": neither end is a pod, nothing to propose");
      return;
    }
    PortKey portKey = portKey(to, c.protocol(), port);
    if (to != null && options.ingress() && options.wants(to.ref().namespace())) {
      if (fromOwnNode(to, source)) {
        notes.add(c + ": from " + to.ref() + "'s own node, always allowed");
      } else {
        Workload w = workload(to);
        if (w != null) {
          involved.add(w);
          ingress.computeIfAbsent(w, k -> new TreeMap<>(PEERS))
              .computeIfAbsent(peer(from, source), k -> new TreeSet<>(PORTS)).add(portKey);
        }
      }
    }
    if (from != null && options.egress() && options.wants(from.ref().namespace())) {
      if (fromOwnNode(from, destination)) {
        notes.add(c + ": to " + from.ref() + "'s own node, always allowed");
      } else {
        Workload w = workload(from);
        if (w != null) {
          involved.add(w);
          egress.computeIfAbsent(w, k -> new TreeMap<>(PEERS))
              .computeIfAbsent(peer(to, destination), k -> new TreeSet<>(PORTS)).add(portKey);
        }
      }
    }
  }

  private static boolean fromOwnNode(Pod pod, String address) {
    for (String h : pod.hostIps()) {
      if (address.equals(Addresses.canonical(h))) {
        return true;
      }
    }
    return false;
  }

  /** The destination pod's container port name for this number and protocol, if it has one; else the number. */
  private static PortKey portKey(Pod destination, Protocol protocol, int port) {
    if (destination != null) {
      for (Pod.NamedPort p : destination.ports()) {
        if (p.port() == port && protocol.name().equalsIgnoreCase(p.protocol()) && !p.name().isEmpty()) {
          return new PortKey(protocol, PortRef.of(p.name()));
        }
      }
    }
    return new PortKey(protocol, PortRef.of(port));
  }

  private Peer peer(Pod pod, String address) {
    Workload w = pod == null ? null : workload(pod);
    if (w != null) {
      return w;
    }
    return new Block(address + (Addresses.isV6(address) ? "/128" : "/32"));
  }

  /** The pod's workload, or null (with a note) if it has no label to select it by. */
  private Workload workload(Pod pod) {
    Map<String, String> stable = stableLabels(pod);
    String namespace = pod.ref().namespace();
    Optional<Workload> w = workloadCache.computeIfAbsent(List.of(namespace, stable), k -> choose(namespace, stable));
    if (w.isEmpty()) {
      notes.add("pod " + pod.ref() + " has no labels to select it by: label it, then advise again (meanwhile it is a "
          + "peer by address)");
    }
    return w.orElse(null);
  }

  /** The smallest selector (preferred keys first) that selects the same pods of the namespace as all the labels. */
  private Optional<Workload> choose(String namespace, Map<String, String> stable) {
    if (stable.isEmpty()) {
      return Optional.empty();
    }
    List<Pod> pods = podsByNamespace.getOrDefault(namespace, List.of());
    Set<ObjectRef> target = selected(pods, LabelSelector.of(stable));
    List<String> others = new ArrayList<>();
    for (Pod p : pods) {
      if (target.contains(p.ref()) && !stableLabels(p).equals(stable)) {
        others.add(p.ref().toString());
      }
    }
    if (!others.isEmpty()) {
      notes.add("the selector for the pods of " + namespace + " labelled " + stable + " also selects " + others.stream()
          .sorted().limit(5).toList() + (others.size() > 5 ? " and " + (others.size() - 5) + " more" : "")
          + ", which carry more labels: what is allowed for those is allowed for these too; give the workloads "
          + "distinct labels for tighter policies");
    }
    List<String> keys = new ArrayList<>(stable.keySet());
    keys.sort(Comparator.comparingInt((String k) -> {
      int i = PREFERRED_KEYS.indexOf(k);
      return i < 0 ? PREFERRED_KEYS.size() : i;
    }).thenComparing(k -> k));
    for (int size = 1; size <= Math.min(MAX_SUBSET, keys.size() - 1); size++) {
      for (List<String> subset : subsets(keys, size)) {
        Map<String, String> m = new TreeMap<>();
        subset.forEach(k -> m.put(k, stable.get(k)));
        LabelSelector s = LabelSelector.of(m);
        if (selected(pods, s).equals(target)) {
          return Optional.of(new Workload(namespace, s));
        }
      }
    }
    return Optional.of(new Workload(namespace, LabelSelector.of(stable)));
  }

  private static Map<String, String> stableLabels(Pod pod) {
    Map<String, String> stable = new TreeMap<>();
    pod.labels().forEach((k, v) -> {
      if (!VOLATILE_LABELS.contains(k)) {
        stable.put(k, v);
      }
    });
    return stable;
  }

  private static Set<ObjectRef> selected(List<Pod> pods, LabelSelector s) {
    Set<ObjectRef> out = new HashSet<>();
    for (Pod p : pods) {
      if (s.matches(p.labels())) {
        out.add(p.ref());
      }
    }
    return out;
  }

  /** The subsets of {@code size} keys, in the keys' order (lexicographic by position). */
  private static List<List<String>> subsets(List<String> keys, int size) {
    List<List<String>> out = new ArrayList<>();
    subsets(keys, size, 0, new ArrayList<>(), out);
    return out;
  }

  private static void subsets(List<String> keys, int size, int from, List<String> prefix, List<List<String>> out) {
    if (prefix.size() == size) {
      out.add(List.copyOf(prefix));
      return;
    }
    for (int i = from; i < keys.size(); i++) {
      prefix.add(keys.get(i));
      subsets(keys, size, i + 1, prefix, out);
      prefix.remove(prefix.size() - 1);
    }
  }

  private List<NetworkPolicy> policies() {
    Map<String, Set<String>> taken = new HashMap<>();
    for (ObjectRef r : snap.networkPolicies().keySet()) {
      taken.computeIfAbsent(r.namespace(), k -> new HashSet<>()).add(r.name());
    }
    List<NetworkPolicy> out = new ArrayList<>();
    for (Workload w : involved) {
      Set<PolicyType> types = EnumSet.noneOf(PolicyType.class);
      if (options.ingress()) {
        types.add(PolicyType.INGRESS);
      }
      if (options.egress()) {
        types.add(PolicyType.EGRESS);
      }
      String name = uniqueName(w, taken.computeIfAbsent(w.namespace(), k -> new HashSet<>()));
      out.add(new NetworkPolicy(new ObjectRef(w.namespace(), name), w.selector(), types,
          rules(w, ingress.getOrDefault(w, Map.of())), rules(w, egress.getOrDefault(w, Map.of()))));
    }
    out.sort(Comparator.comparing((NetworkPolicy p) -> p.ref().namespace()).thenComparing(p -> p.ref().name()));
    return out;
  }

  /** One rule per distinct set of ports, with every peer that used exactly those ports. */
  private static List<NetworkPolicy.Rule> rules(Workload owner, Map<Peer, Set<PortKey>> seen) {
    Map<String, List<Peer>> byPorts = new TreeMap<>();
    Map<String, Set<PortKey>> portsOf = new HashMap<>();
    for (Map.Entry<Peer, Set<PortKey>> e : seen.entrySet()) {
      String key = String.join(",", e.getValue().stream().map(PortKey::key).toList());
      byPorts.computeIfAbsent(key, k -> new ArrayList<>()).add(e.getKey());
      portsOf.put(key, e.getValue());
    }
    List<NetworkPolicy.Rule> out = new ArrayList<>();
    for (Map.Entry<String, List<Peer>> e : byPorts.entrySet()) {
      List<NetworkPolicy.Peer> peers = new ArrayList<>();
      for (Peer p : e.getValue()) {
        peers.add(modelPeer(owner.namespace(), p));
      }
      List<NetworkPolicy.Port> ports = new ArrayList<>();
      for (PortKey k : portsOf.get(e.getKey())) {
        ports.add(new NetworkPolicy.Port(k.protocol(), Optional.of(k.port()), java.util.OptionalInt.empty()));
      }
      out.add(new NetworkPolicy.Rule(peers, ports));
    }
    return out;
  }

  private static NetworkPolicy.Peer modelPeer(String policyNamespace, Peer p) {
    if (p instanceof Block b) {
      return new NetworkPolicy.Peer.IpBlock(b.cidr(), List.of());
    }
    Workload w = (Workload) p;
    Optional<LabelSelector> ns = w.namespace().equals(policyNamespace) ? Optional.empty()
        : Optional.of(LabelSelector.of(Map.of(ReferenceEvaluator.NAMESPACE_NAME_LABEL, w.namespace())));
    return new NetworkPolicy.Peer.Pods(ns, w.selector());
  }

  /** {@code advised-} and the selector's values, as a DNS label; a number appended if the namespace has it. */
  private static String uniqueName(Workload w, Set<String> taken) {
    StringBuilder sb = new StringBuilder();
    for (String v : new TreeMap<>(w.selector().matchLabels()).values()) {
      String clean = v.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
      sb.append(sb.length() == 0 ? "" : "-").append(clean);
    }
    String base = (NAME_PREFIX + sb).replaceAll("-+", "-").replaceAll("-$", "");
    if (base.length() > 56) {
      base = base.substring(0, 56).replaceAll("-$", "");
    }
    String name = base;
    for (int i = 2; taken.contains(name); i++) {
      name = base + "-" + i;
    }
    taken.add(name);
    return name;
  }

  /**
   * The pod itself when the address is the only one of a pod (the same judgement, without the evaluator looking the
   * address up among every pod), else the address.
   */
  private Endpoint endpoint(String address) {
    Pod p = podByAddress.get(Addresses.canonical(address));
    return p != null && p.ips().size() == 1 ? Endpoint.pod(p.ref()) : Endpoint.ip(address);
  }

  /** The observed connections that the current policies plus the proposal still deny. */
  private List<Connection> check(List<NetworkPolicy> proposal, Map<Connection, Long> distinct) {
    Map<ObjectRef, NetworkPolicy> all = new HashMap<>(snap.networkPolicies());
    for (NetworkPolicy p : proposal) {
      all.put(p.ref(), p);
    }
    Snapshot after = new Snapshot(snap.generation(), snap.namespaces(), snap.pods(), snap.bindings(), all,
        snap.services(), snap.endpointSlices(), snap.switchPorts(), snap.nodes());
    ReferenceEvaluator evaluator = new ReferenceEvaluator(options.legacyIsolation());
    List<Connection> denied = new ArrayList<>();
    for (Map.Entry<Connection, Long> e : distinct.entrySet()) {
      Connection c = e.getKey();
      if (Addresses.canonical(c.source()) == null || Addresses.canonical(c.destination()) == null) {
        continue;
      }
      boolean allowed;
      try {
        allowed = true;
        for (Observed.Target t : Observed.targets(after, c)) {
          allowed &= evaluator.evaluate(after, endpoint(c.source()), endpoint(t.address()), c.protocol(), t.port())
              .allowed();
        }
      } catch (IllegalArgumentException ex) {
        notes.add(c + ": cannot be judged: " + ex.getMessage());
        continue;
      }
      if (!allowed) {
        denied.add(new Connection(c.source(), c.destination(), c.protocol(), c.port(), e.getValue()));
      }
    }
    return denied;
  }
}
