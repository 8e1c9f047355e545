package io.sluice.renderer.reference;

import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.NetworkPolicy.Peer;
import io.sluice.model.NetworkPolicy.PolicyType;
import io.sluice.model.NetworkPolicy.Rule;
import io.sluice.model.ObjectRef;
import io.sluice.model.Pod;
import io.sluice.model.PortRef;
import io.sluice.model.Protocol;
import io.sluice.model.Snapshot;
import io.sluice.renderer.reference.Verdict.Isolation;
import io.sluice.renderer.reference.Verdict.Party;
import io.sluice.renderer.reference.Verdict.RuleRef;
import io.sluice.renderer.reference.Verdict.Side;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The reference reading of Kubernetes NetworkPolicy: may a new connection from one endpoint to another pass? Written
 * straight from the API's documented rules, one connection at a time, by scanning the snapshot: it shares nothing
 * with the compiler, so the two can be compared. See the package documentation for the choices where the API leaves
 * room. Thread-safe; the only thing it keeps is an index of the last snapshot's pods by address (a cache).
 */
public final class ReferenceEvaluator {
  /** The label the API server puts on every namespace, with the namespace's name as its value. */
  public static final String NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";
  /** The legacy (pre-v1) namespace annotation that {@code legacyIsolation} honours. */
  public static final String LEGACY_ISOLATION_ANNOTATION = LegacyIsolation.ANNOTATION;

  private final boolean legacyIsolation;

  /** An evaluator that ignores the legacy namespace annotation. */
  public ReferenceEvaluator() {
    this(false);
  }

  /**
   * @param legacyIsolation whether a namespace annotated {@code net.beta.kubernetes.io/network-policy:
   *     {"ingress": {"isolation": "DefaultDeny"}}} makes all its pods ingress-isolated
   */
  public ReferenceEvaluator(boolean legacyIsolation) {
    this.legacyIsolation = legacyIsolation;
  }

  public boolean legacyIsolation() {
    return legacyIsolation;
  }

  /**
   * Judges a new connection from {@code from} to {@code to} on {@code protocol} port {@code port} (the destination
   * port).
   *
   * @throws EndpointException if a pod does not exist or has no IP, an address belongs to several pods, or the two
   *     ends have no address of a common family
   * @throws IllegalArgumentException if the port is not 1–65535
   */
  public Verdict evaluate(Snapshot snapshot, Endpoint from, Endpoint to, Protocol protocol, int port) {
    Objects.requireNonNull(snapshot, "snapshot");
    Objects.requireNonNull(from, "from");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(protocol, "protocol");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " must be between 1 and 65535, inclusive");
    }
    Located src = locate(snapshot, from, true);
    Located dst = locate(snapshot, to, false);
    int length = addressLength(src, dst);
    Target source = new Target(src.pod, src.address(length));
    Target destination = new Target(dst.pod, dst.address(length));

    Side egress;
    Side ingress;
    if (source.pod != null && destination.pod != null && source.pod.ref().equals(destination.pod.ref())) {
      egress = Side.unisolated(PolicyType.EGRESS, Isolation.SAME_POD);
      ingress = Side.unisolated(PolicyType.INGRESS, Isolation.SAME_POD);
    } else {
      // traffic between a pod and its own node (status.hostIPs) is not governed, whichever end opens it
      egress = onItsNode(source, destination) ? Side.unisolated(PolicyType.EGRESS, Isolation.OWN_NODE)
          : side(snapshot, PolicyType.EGRESS, source, destination, destination, protocol, port);
      ingress = onItsNode(destination, source) ? Side.unisolated(PolicyType.INGRESS, Isolation.OWN_NODE)
          : side(snapshot, PolicyType.INGRESS, destination, source, destination, protocol, port);
    }
    return new Verdict(source.party(), destination.party(), protocol, port, egress, ingress);
  }

  /** Whether {@code other}'s address is one of the addresses of the node {@code pod}'s pod runs on. */
  private static boolean onItsNode(Target pod, Target other) {
    if (pod.pod == null) {
      return false;
    }
    for (String ip : pod.pod.hostIps()) {
      if (java.util.Arrays.equals(Ip.parse(ip), other.address())) {
        return true;
      }
    }
    return false;
  }

  // ---- one side ----

  /**
   * The {@code direction} side of {@code self}: is it isolated that way, and which rules let {@code peer} through?
   * {@code destination} is the end whose container ports named ports refer to.
   */
  private Side side(Snapshot snapshot, PolicyType direction, Target self, Target peer, Target destination,
                    Protocol protocol, int port) {
    if (self.pod == null) {
      return Side.unisolated(direction, Isolation.NOT_A_POD);
    }
    if (self.pod.hostNetwork()) {
      return Side.unisolated(direction, Isolation.HOST_NETWORK);
    }
    String ns = self.pod.ref().namespace();
    List<NetworkPolicy> isolating = snapshot.networkPolicies().values().stream()
        .filter(p -> p.ref().namespace().equals(ns))
        .filter(p -> p.policyTypes().contains(direction))
        .filter(p -> p.podSelector().matches(self.pod.labels()))
        .sorted(Comparator.comparing(NetworkPolicy::ref))
        .toList();
    boolean byAnnotation = direction == PolicyType.INGRESS && legacyIsolation
        && LegacyIsolation.defaultDenyIngress(namespace(snapshot, ns).annotations());
    // A pre-v1 (allowOnly) policy adds what it allows, but does not isolate by itself.
    if (isolating.stream().allMatch(NetworkPolicy::allowOnly) && !byAnnotation) {
      return Side.unisolated(direction, Isolation.NOT_ISOLATED);
    }
    List<RuleRef> allowedBy = new ArrayList<>();
    for (NetworkPolicy policy : isolating) {
      List<Rule> rules = direction == PolicyType.INGRESS ? policy.ingress() : policy.egress();
      for (int i = 0; i < rules.size(); i++) {
        if (ruleAllows(snapshot, ns, rules.get(i), peer, destination, protocol, port)) {
          allowedBy.add(new RuleRef(policy.ref(), direction, i));
        }
      }
    }
    List<ObjectRef> refs = isolating.stream().map(NetworkPolicy::ref).toList();
    return new Side(direction, Isolation.ISOLATED, refs, byAnnotation, allowedBy);
  }

  /** A rule allows a connection if some peer matches (no peers: every peer) and some port matches (none: all). */
  private static boolean ruleAllows(Snapshot snapshot, String policyNamespace, Rule rule, Target peer,
                                    Target destination, Protocol protocol, int port) {
    boolean peerMatches = rule.peers().isEmpty()
        || rule.peers().stream().anyMatch(p -> peerMatches(snapshot, policyNamespace, p, peer));
    boolean portMatches = rule.ports().isEmpty()
        || rule.ports().stream().anyMatch(p -> portMatches(p, destination, protocol, port));
    return peerMatches && portMatches;
  }

  // ---- peers ----

  private static boolean peerMatches(Snapshot snapshot, String policyNamespace, Peer peer, Target other) {
    if (peer instanceof Peer.Pods pods) {
      // Selectors choose pods on the pod network; an address outside it, or a hostNetwork pod, is no such pod.
      if (other.pod == null || other.pod.hostNetwork()) {
        return false;
      }
      String podNamespace = other.pod.ref().namespace();
      boolean namespaceMatches = pods.namespaceSelector().isEmpty()
          ? podNamespace.equals(policyNamespace)
          : pods.namespaceSelector().get().matches(namespace(snapshot, podNamespace).labels());
      return namespaceMatches && pods.podSelector().matches(other.pod.labels());
    }
    return ipBlockContains((Peer.IpBlock) peer, other.address());
  }

  /** In cidr and in no except. A block that does not parse matches nothing (fails closed). */
  private static boolean ipBlockContains(Peer.IpBlock block, byte[] address) {
    Ip.Cidr cidr = Ip.parseCidr(block.cidr());
    if (cidr == null || !cidr.contains(address)) {
      return false;
    }
    for (String text : block.except()) {
      Ip.Cidr except = Ip.parseCidr(text);
      if (except == null || except.contains(address)) {
        return false;
      }
    }
    return true;
  }

  /**
   * The namespace as the snapshot has it; one the snapshot lacks (a pod's namespace with no manifest) is read as the
   * API server would have created it: no annotations, only the {@code kubernetes.io/metadata.name} label.
   */
  private static Namespace namespace(Snapshot snapshot, String name) {
    Namespace ns = snapshot.namespaces().get(name);
    return ns != null ? ns : new Namespace(name, Map.of(NAMESPACE_NAME_LABEL, name));
  }

  // ---- ports ----

  /**
   * Same protocol, and: no port (all ports), the port, the range port..endPort, or a named container port of the
   * destination pod with that name, protocol and number. Only a pod on the pod network has named ports: for an
   * address or a hostNetwork pod a named port matches nothing.
   */
  private static boolean portMatches(NetworkPolicy.Port rulePort, Target destination, Protocol protocol, int port) {
    if (rulePort.protocol() != protocol) {
      return false;
    }
    if (rulePort.port().isEmpty()) {
      return true;
    }
    PortRef ref = rulePort.port().get();
    if (ref instanceof PortRef.Numbered n) {
      int end = rulePort.endPort().orElse(n.number());
      return n.number() <= port && port <= end;
    }
    String name = ((PortRef.Named) ref).name();
    Pod pod = destination.pod;
    if (pod == null || pod.hostNetwork()) {
      return false;
    }
    return pod.ports().stream().anyMatch(np -> np.name().equals(name) && np.port() == port
        && protocol == containerPortProtocol(np));
  }

  /** A container port's protocol; the API server defaults an absent one to TCP. Unknown spellings are no protocol. */
  private static Protocol containerPortProtocol(Pod.NamedPort port) {
    String p = port.protocol();
    if (p == null || p.isEmpty()) {
      return Protocol.TCP;
    }
    for (Protocol known : Protocol.values()) {
      if (known.name().equals(p)) {
        return known;
      }
    }
    return null;
  }

  // ---- endpoints ----

  /** An endpoint found in the snapshot: its pod (null for an address no pod has) and the address given, if any. */
  private record Located(Endpoint endpoint, boolean source, Pod pod, Address given) {
    /** The address of the connection's family: the one given, or the pod's first IP of that family. */
    Address address(int length) {
      if (given != null) {
        return given;
      }
      for (Address a : addresses(pod)) {
        if (a.bytes.length == length) {
          return a;
        }
      }
      throw new EndpointException(source, endpoint, "pod has no " + (length == 4 ? "IPv4" : "IPv6")
          + " address (it has " + String.join(", ", pod.ips()) + ")");
    }
  }

  /** An address as written and as bytes. */
  private record Address(String text, byte[] bytes) { }

  /** An end of the connection as policy sees it: the pod (null if none) and the address it uses. */
  private record Target(Pod pod, Address addr) {
    byte[] address() {
      return addr.bytes;
    }

    Party party() {
      return new Party(Optional.ofNullable(pod).map(Pod::ref), addr.text, pod != null && pod.hostNetwork());
    }
  }

  /** The pods (not host-network) of the snapshot by address, sorted by name: built once per snapshot's pod map. */
  private Map<String, List<Pod>> owners(Snapshot snapshot) {
    OwnerIndex i = ownerIndex.get();
    if (i != null && i.pods() == snapshot.pods()) {
      return i.byAddress();
    }
    Map<String, List<Pod>> byAddress = new HashMap<>();
    snapshot.pods().values().stream()
        .filter(p -> !p.hostNetwork())
        .sorted(Comparator.comparing(Pod::ref))
        .forEach(p -> addresses(p).stream().map(a -> Arrays.toString(a.bytes)).distinct()
            .forEach(k -> byAddress.computeIfAbsent(k, x -> new ArrayList<>()).add(p)));
    ownerIndex.set(new OwnerIndex(snapshot.pods(), byAddress));
    return byAddress;
  }

  /** A cache, not state: the answer is the same with or without it. */
  private record OwnerIndex(Map<ObjectRef, Pod> pods, Map<String, List<Pod>> byAddress) { }

  private final java.util.concurrent.atomic.AtomicReference<OwnerIndex> ownerIndex =
      new java.util.concurrent.atomic.AtomicReference<>();

  private Located locate(Snapshot snapshot, Endpoint endpoint, boolean source) {
    if (endpoint instanceof Endpoint.PodRef ref) {
      Pod pod = snapshot.pods().get(ref.ref());
      if (pod == null) {
        throw new EndpointException(source, endpoint, "no such pod");
      }
      if (addresses(pod).isEmpty()) {
        throw new EndpointException(source, endpoint,
            "pod has no IP yet (not scheduled or not started), so it can neither send nor receive");
      }
      return new Located(endpoint, source, pod, null);
    }
    String text = ((Endpoint.Address) endpoint).ip();
    byte[] bytes = Ip.parse(text);
    // A pod's address is that pod. hostNetwork pods share their node's address and stay an address.
    List<Pod> owners = owners(snapshot).getOrDefault(Arrays.toString(bytes), List.of());
    if (owners.size() > 1) {
      throw new EndpointException(source, endpoint, "address belongs to several pods: "
          + String.join(", ", owners.stream().map(p -> p.ref().toString()).toList()));
    }
    return new Located(endpoint, source, owners.isEmpty() ? null : owners.get(0), new Address(text, bytes));
  }

  /** The pod's IPs that parse, in order (the first is its primary IP). */
  private static List<Address> addresses(Pod pod) {
    List<Address> out = new ArrayList<>();
    for (String ip : pod.ips()) {
      byte[] bytes = Ip.parse(ip);
      if (bytes != null) {
        out.add(new Address(ip, bytes));
      }
    }
    return out;
  }

  /**
   * The connection's address family, as an address length: that of an address given for either end (they must
   * agree), otherwise that of the source pod's primary IP.
   */
  private static int addressLength(Located src, Located dst) {
    if (src.given != null && dst.given != null && src.given.bytes.length != dst.given.bytes.length) {
      throw new EndpointException(false, dst.endpoint, "an " + Ip.family(dst.given.bytes)
          + " address cannot be reached from an " + Ip.family(src.given.bytes) + " address");
    }
    if (src.given != null) {
      return src.given.bytes.length;
    }
    if (dst.given != null) {
      return dst.given.bytes.length;
    }
    return addresses(src.pod).get(0).bytes.length;
  }
}
