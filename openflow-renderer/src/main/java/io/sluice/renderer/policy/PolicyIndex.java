package io.sluice.renderer.policy;

import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What every switch's compile shares for one snapshot: pods and policies by namespace, the rules' conjunction ids,
 * and the pods each peer selector stands for (computed once per distinct selector, whichever switch asks first).
 * Immutable but for that memo; safe to use from several threads. Built once per model generation by the caller.
 */
public final class PolicyIndex {
  private final Snapshot snap;
  private final Map<String, List<Pod>> podsByNamespace = new HashMap<>();
  private final Map<String, List<NetworkPolicy>> policiesByNamespace = new HashMap<>();
  private final List<Pod> allPods;
  private final ConjunctionIds ids = new ConjunctionIds();
  private final Map<Object, List<Pod>> selections = new ConcurrentHashMap<>();
  private final Map<Long, List<PortBinding>> bindingsByDpid = new HashMap<>();
  private final List<PolicyCompiler.RuleRef> rules;

  private PolicyIndex(Snapshot snap) {
    this.snap = snap;
    List<Pod> pods = new ArrayList<>();
    for (Pod p : snap.pods().values()) {
      if (!p.hostNetwork() && !p.ips().isEmpty()) {
        pods.add(p);
      }
    }
    pods.sort(Comparator.comparing(Pod::ref));
    allPods = List.copyOf(pods);
    for (Pod p : allPods) {
      podsByNamespace.computeIfAbsent(p.ref().namespace(), k -> new ArrayList<>()).add(p);
    }
    List<NetworkPolicy> policies = new ArrayList<>(snap.networkPolicies().values());
    policies.sort(Comparator.comparing(NetworkPolicy::ref));
    for (NetworkPolicy np : policies) {
      policiesByNamespace.computeIfAbsent(np.ref().namespace(), k -> new ArrayList<>()).add(np);
    }
    ids.reserve(policies);
    Map<List<Object>, Integer> shapeIds = new HashMap<>();
    for (NetworkPolicy np : policies) {
      shapes.put(np.ref(), Shape.of(np, shapeIds));
    }
    rules = List.copyOf(PolicyCompiler.rules(this, policies));
    for (PortBinding b : snap.bindings().values()) {
      bindingsByDpid.computeIfAbsent(b.dpid(), k -> new ArrayList<>()).add(b);
    }
  }

  private final Map<io.sluice.model.ObjectRef, Shape> shapes = new HashMap<>();

  /**
   * Which policies' directions and rules are identical, as small ids: two policy directions with the same namespace,
   * podSelector and rules get the same direction id; two rules with the same namespace, podSelector, direction and
   * rule get the same rule id. Computed once per generation so that every switch's compile compares ints.
   */
  record Shape(int ingress, int egress, int[] ingressRules, int[] egressRules) {
    static Shape of(NetworkPolicy np, Map<List<Object>, Integer> ids) {
      String ns = np.ref().namespace();
      return new Shape(id(ids, List.of(ns, np.podSelector(), "in", np.ingress())),
          id(ids, List.of(ns, np.podSelector(), "out", np.egress())),
          ruleIds(ids, ns, np, "in", np.ingress()), ruleIds(ids, ns, np, "out", np.egress()));
    }

    private static int[] ruleIds(Map<List<Object>, Integer> ids, String ns, NetworkPolicy np, String dir,
                                 List<NetworkPolicy.Rule> rules) {
      int[] out = new int[rules.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = id(ids, List.of(ns, np.podSelector(), dir, rules.get(i)));
      }
      return out;
    }

    private static int id(Map<List<Object>, Integer> ids, List<Object> key) {
      return ids.computeIfAbsent(key, k -> ids.size());
    }
  }

  /** The shape ids of a policy of this index. */
  Shape shape(NetworkPolicy np) {
    return shapes.get(np.ref());
  }

  private final Map<String, Cidr> addresses = new ConcurrentHashMap<>();

  /** A pod address as a host prefix, parsed once per generation. */
  Cidr cidr(String ip) {
    return addresses.computeIfAbsent(ip, Cidr::parse);
  }

  /** Every rule id of the snapshot's policies (both parts of each rule), in policy order. */
  public List<PolicyCompiler.RuleRef> rules() {
    return rules;
  }

  /** The pods a policy selects (its namespace's pods matching its podSelector). */
  public List<Pod> selectedBy(NetworkPolicy np) {
    List<Pod> out = new ArrayList<>();
    for (Pod p : podsIn(np.ref().namespace())) {
      if (np.podSelector().matches(p.labels())) {
        out.add(p);
      }
    }
    return out;
  }

  /** The port bindings of one switch. */
  List<PortBinding> bindingsOn(long dpid) {
    return bindingsByDpid.getOrDefault(dpid, List.of());
  }

  public static PolicyIndex of(Snapshot snap) {
    return new PolicyIndex(snap);
  }

  public Snapshot snapshot() {
    return snap;
  }

  ConjunctionIds ids() {
    return ids;
  }

  /** Pods with an address that are not hostNetwork, in namespace/name order. */
  List<Pod> allPods() {
    return allPods;
  }

  List<Pod> podsIn(String namespace) {
    return podsByNamespace.getOrDefault(namespace, List.of());
  }

  /** Policies of one namespace, in name order. */
  List<NetworkPolicy> policiesIn(String namespace) {
    return policiesByNamespace.getOrDefault(namespace, List.of());
  }

  /** Labels of a namespace; one without a manifest is read as the API server would create it. */
  Map<String, String> namespaceLabels(String ns) {
    Namespace n = snap.namespaces().get(ns);
    return n != null ? n.labels() : Map.of("kubernetes.io/metadata.name", ns);
  }

  /** The pods a Pods peer of a policy in {@code policyNamespace} selects (hostNetwork pods never). */
  List<Pod> select(String policyNamespace, NetworkPolicy.Peer.Pods peer) {
    Optional<LabelSelector> nsSel = peer.namespaceSelector();
    Object key = nsSel.isEmpty() ? List.of(policyNamespace, peer.podSelector()) : List.of(nsSel.get(), peer.podSelector());
    List<Pod> cached = selections.get(key);
    if (cached != null) {
      return cached;
    }
    List<Pod> out = new ArrayList<>();
    if (nsSel.isEmpty()) {
      for (Pod p : podsIn(policyNamespace)) {
        if (peer.podSelector().matches(p.labels())) {
          out.add(p);
        }
      }
    } else {
      List<String> namespaces = new ArrayList<>(podsByNamespace.keySet());
      namespaces.sort(null);
      for (String ns : namespaces) {
        if (nsSel.get().matches(namespaceLabels(ns))) {
          for (Pod p : podsIn(ns)) {
            if (peer.podSelector().matches(p.labels())) {
              out.add(p);
            }
          }
        }
      }
    }
    List<Pod> result = List.copyOf(out);
    selections.putIfAbsent(key, result);
    return result;
  }

  private final Map<List<Object>, List<Cidr>> peerAddresses = new ConcurrentHashMap<>();
  private final Map<List<Object>, List<io.sluice.renderer.flow.Match>> peerMatches = new ConcurrentHashMap<>();

  /** The addresses a rule's peers stand for, computed once per (namespace, peers) by {@code compute}. */
  List<Cidr> peerAddresses(String namespace, List<NetworkPolicy.Peer> peers,
                           java.util.function.BiFunction<String, List<NetworkPolicy.Peer>, List<Cidr>> compute) {
    List<Object> key = List.of(namespace, peers);
    List<Cidr> v = peerAddresses.get(key);
    if (v == null) {
      v = List.copyOf(compute.apply(namespace, peers));
      List<Cidr> raced = peerAddresses.putIfAbsent(key, v);
      v = raced != null ? raced : v;
    }
    return v;
  }

  /** The peers' addresses as source or destination matches, computed once per (namespace, peers, side). */
  List<io.sluice.renderer.flow.Match> peerMatches(String namespace, List<NetworkPolicy.Peer> peers, boolean source,
                                                  java.util.function.Supplier<List<io.sluice.renderer.flow.Match>> compute) {
    List<Object> key = List.of(namespace, peers, source);
    List<io.sluice.renderer.flow.Match> v = peerMatches.get(key);
    if (v == null) {
      v = List.copyOf(compute.get());
      List<io.sluice.renderer.flow.Match> raced = peerMatches.putIfAbsent(key, v);
      v = raced != null ? raced : v;
    }
    return v;
  }

  /** Distinct peer selectors resolved so far (address sets), for reporting. */
  public int addressSets() {
    return selections.size();
  }

  /** Resolves every peer selector of every policy now (what a per-switch compile would otherwise do on demand). */
  public void resolveAll() {
    for (List<NetworkPolicy> list : policiesByNamespace.values()) {
      for (NetworkPolicy np : list) {
        for (List<NetworkPolicy.Rule> rules : List.of(np.ingress(), np.egress())) {
          for (NetworkPolicy.Rule r : rules) {
            for (NetworkPolicy.Peer peer : r.peers()) {
              if (peer instanceof NetworkPolicy.Peer.Pods pods) {
                select(np.ref().namespace(), pods);
              }
            }
          }
        }
      }
    }
  }
}
