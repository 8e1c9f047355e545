package io.sluice.renderer.policy;

import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.PersistentMap;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Match;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Supplier;

/**
 * What every switch's compile shares for one snapshot: pods and policies by namespace, the rules' conjunction ids,
 * and the pods each peer selector stands for (computed once per distinct selector, whichever switch asks first).
 * Immutable but for its memos; safe to use from several threads.
 *
 * <p>{@link #of} builds an index from scratch; {@link #next} derives the index of a later snapshot from this one in
 * time proportional to what changed ({@link PersistentMap#diff}), sharing every per-namespace list, binding list and
 * selection that did not change. Unchanged parts keep their identity from one generation to the next, which is what
 * lets a switch whose inputs are all identical keep its rendered tables ({@link io.sluice.renderer.Renderer}).
 */
public final class PolicyIndex {
  private final Snapshot snap;
  /** Pods with an address that are not hostNetwork, by namespace, each list in name order. */
  private final PersistentMap<String, List<Pod>> podsByNamespace;
  /** Replaced (a new object) whenever the set of namespaces that have pods changes. */
  private final Object podNamespaces;
  private final PersistentMap<String, List<NetworkPolicy>> policiesByNamespace;
  private final PersistentMap<Long, List<PortBinding>> bindingsByDpid;
  private final ConjunctionIds ids;
  private final LayeredMap<ObjectRef, Shape> shapes;
  private final ShapeIds shapeIds;
  /** Memos shared by consecutive generations; every entry is checked against this index's inputs before use. */
  private final Memos memos;
  /** This generation's resolved selections (after validation against the shared memo). */
  private final Map<Object, List<Pod>> selections = new ConcurrentHashMap<>();
  private volatile List<Pod> allPods;
  private volatile List<PolicyCompiler.RuleRef> rules;

  private PolicyIndex(Snapshot snap, PersistentMap<String, List<Pod>> podsByNamespace, Object podNamespaces,
                      PersistentMap<String, List<NetworkPolicy>> policiesByNamespace,
                      PersistentMap<Long, List<PortBinding>> bindingsByDpid, ConjunctionIds ids,
                      LayeredMap<ObjectRef, Shape> shapes, ShapeIds shapeIds, Memos memos, List<Pod> allPods) {
    this.snap = snap;
    this.podsByNamespace = podsByNamespace;
    this.podNamespaces = podNamespaces;
    this.policiesByNamespace = policiesByNamespace;
    this.bindingsByDpid = bindingsByDpid;
    this.ids = ids;
    this.shapes = shapes;
    this.shapeIds = shapeIds;
    this.memos = memos;
    this.allPods = allPods;
  }

  /** An index of a snapshot, built from scratch. */
  public static PolicyIndex of(Snapshot snap) {
    Map<String, List<Pod>> pods = new HashMap<>();
    for (Pod p : snap.pods().values()) {
      if (eligible(p)) {
        pods.computeIfAbsent(p.ref().namespace(), k -> new ArrayList<>()).add(p);
      }
    }
    pods.replaceAll((ns, list) -> sortedPods(list));
    List<NetworkPolicy> policies = new ArrayList<>(snap.networkPolicies().values());
    policies.sort(Comparator.comparing(NetworkPolicy::ref));
    Map<String, List<NetworkPolicy>> byNs = new HashMap<>();
    for (NetworkPolicy np : policies) {
      byNs.computeIfAbsent(np.ref().namespace(), k -> new ArrayList<>()).add(np);
    }
    byNs.replaceAll((ns, list) -> List.copyOf(list));
    Map<Long, List<PortBinding>> bindings = new HashMap<>();
    for (PortBinding b : snap.bindings().values()) {
      bindings.computeIfAbsent(b.dpid(), k -> new ArrayList<>()).add(b);
    }
    bindings.replaceAll((d, list) -> sortedBindings(list));
    Map<List<Object>, Integer> interned = new HashMap<>();
    Shape.Interner plain = key -> interned.computeIfAbsent(key, k -> interned.size());
    Map<ObjectRef, Shape> shapes = new HashMap<>();
    for (NetworkPolicy np : policies) {
      shapes.put(np.ref(), Shape.of(np, plain));
    }
    ShapeIds shapeIds = new ShapeIds(LayeredMap.over(interned), interned.size());
    return new PolicyIndex(snap, PersistentMap.build(pods), new Object(), PersistentMap.build(byNs),
        PersistentMap.build(bindings), ConjunctionIds.of(policies), LayeredMap.over(shapes), shapeIds, new Memos(), null);
  }

  /**
   * The index of {@code later}, derived from this one: only namespaces, switches and policies that changed are
   * recomputed. Falls back to {@link #of} when the two snapshots differ in many objects (a resync).
   */
  public PolicyIndex next(Snapshot later) {
    if (later == snap) {
      return this;
    }
    int limit = Math.max(1_000, (later.pods().size() + later.networkPolicies().size()) / 20);
    Map<ObjectRef, Pod[]> pods = new LinkedHashMap<>();
    Map<ObjectRef, NetworkPolicy[]> policies = new LinkedHashMap<>();
    Map<ObjectRef, PortBinding[]> bindings = new LinkedHashMap<>();
    int[] nsChanges = {0};
    boolean small = PersistentMap.diff(persistent(snap.pods()), persistent(later.pods()), limit,
        (k, a, b) -> pods.put(k, new Pod[] {a, b}))
        && PersistentMap.diff(persistent(snap.networkPolicies()), persistent(later.networkPolicies()), limit,
        (k, a, b) -> policies.put(k, new NetworkPolicy[] {a, b}))
        && PersistentMap.diff(persistent(snap.bindings()), persistent(later.bindings()), limit,
        (k, a, b) -> bindings.put(k, new PortBinding[] {a, b}))
        && PersistentMap.diff(persistent(snap.namespaces()), persistent(later.namespaces()), limit,
        (k, a, b) -> nsChanges[0]++);
    if (!small || pods.size() + policies.size() + bindings.size() + nsChanges[0] > limit) {
      return of(later);
    }

    // pods: rebuild the lists of the namespaces that changed
    PersistentMap<String, List<Pod>> podsNs = podsByNamespace;
    Object podNamespacesNext = podNamespaces;
    Map<String, List<Pod[]>> podsTouched = new TreeMap<>();
    pods.forEach((ref, v) -> podsTouched.computeIfAbsent(ref.namespace(), k -> new ArrayList<>()).add(v));
    for (Map.Entry<String, List<Pod[]>> e : podsTouched.entrySet()) {
      Map<ObjectRef, Pod> list = new LinkedHashMap<>();
      for (Pod p : podsNs.getOrDefault(e.getKey(), List.of())) {
        list.put(p.ref(), p);
      }
      for (Pod[] change : e.getValue()) {
        ObjectRef ref = (change[0] != null ? change[0] : change[1]).ref();
        list.remove(ref);
        if (change[1] != null && eligible(change[1])) {
          list.put(ref, change[1]);
        }
      }
      boolean had = podsNs.containsKey(e.getKey());
      podsNs = list.isEmpty() ? podsNs.without(e.getKey()) : podsNs.with(e.getKey(), sortedPods(list.values()));
      if (had == list.isEmpty()) {
        podNamespacesNext = new Object();
      }
    }

    // policies: lists of the namespaces that changed, their conjunction ids and shapes
    PersistentMap<String, List<NetworkPolicy>> policiesNs = policiesByNamespace;
    LayeredMap<ObjectRef, Shape> shapesNext = shapes;
    ShapeIds shapeIdsNext = shapeIds;
    ConjunctionIds idsNext = ids;
    if (!policies.isEmpty()) {
      List<NetworkPolicy> before = new ArrayList<>();
      List<NetworkPolicy> after = new ArrayList<>();
      Map<String, List<NetworkPolicy[]>> touched = new TreeMap<>();
      policies.forEach((ref, v) -> touched.computeIfAbsent(ref.namespace(), k -> new ArrayList<>()).add(v));
      for (Map.Entry<String, List<NetworkPolicy[]>> e : touched.entrySet()) {
        Map<ObjectRef, NetworkPolicy> list = new TreeMap<>();
        for (NetworkPolicy np : policiesNs.getOrDefault(e.getKey(), List.of())) {
          list.put(np.ref(), np);
        }
        for (NetworkPolicy[] change : e.getValue()) {
          NetworkPolicy np = change[1] != null ? change[1] : change[0];
          if (change[0] != null) {
            before.add(change[0]);
          }
          if (change[1] != null) {
            after.add(change[1]);
            list.put(np.ref(), change[1]);
            ShapeIds[] ids = {shapeIdsNext};
            Shape shape = Shape.of(change[1], key -> {
              int[] out = new int[1];
              ids[0] = ids[0].intern(key, out);
              return out[0];
            });
            shapeIdsNext = ids[0];
            shapesNext = shapesNext.with(np.ref(), shape);
          } else {
            list.remove(np.ref());
            shapesNext = shapesNext.without(np.ref());
          }
        }
        policiesNs = list.isEmpty() ? policiesNs.without(e.getKey()) : policiesNs.with(e.getKey(), List.copyOf(list.values()));
      }
      idsNext = ids.next(before, after);
    }

    // bindings: lists of the switches that changed
    PersistentMap<Long, List<PortBinding>> bindingsNext = bindingsByDpid;
    Map<Long, List<PortBinding[]>> dpids = new TreeMap<>();
    bindings.forEach((ref, v) -> {
      if (v[0] != null) {
        dpids.computeIfAbsent(v[0].dpid(), k -> new ArrayList<>()).add(v);
      }
      if (v[1] != null && (v[0] == null || v[0].dpid() != v[1].dpid())) {
        dpids.computeIfAbsent(v[1].dpid(), k -> new ArrayList<>()).add(v);
      }
    });
    for (Map.Entry<Long, List<PortBinding[]>> e : dpids.entrySet()) {
      Map<ObjectRef, PortBinding> list = new LinkedHashMap<>();
      for (PortBinding b : bindingsNext.getOrDefault(e.getKey(), List.of())) {
        list.put(b.pod(), b);
      }
      for (PortBinding[] change : e.getValue()) {
        ObjectRef ref = (change[0] != null ? change[0] : change[1]).pod();
        list.remove(ref);
        if (change[1] != null && change[1].dpid() == e.getKey()) {
          list.put(ref, change[1]);
        }
      }
      bindingsNext = list.isEmpty() ? bindingsNext.without(e.getKey())
          : bindingsNext.with(e.getKey(), sortedBindings(list.values()));
    }

    return new PolicyIndex(later, podsNs, podNamespacesNext, policiesNs, bindingsNext, idsNext, shapesNext, shapeIdsNext,
        memos.outgrown(later) ? new Memos() : memos, pods.isEmpty() ? allPods : null);
  }

  @SuppressWarnings("unchecked")
  private static <K, V> PersistentMap<K, V> persistent(Map<K, V> m) {
    return (PersistentMap<K, V>) m; // Snapshot's maps are persistent (its constructor makes them so)
  }

  private static boolean eligible(Pod p) {
    return !p.hostNetwork() && !p.ips().isEmpty();
  }

  private static List<Pod> sortedPods(Collection<Pod> pods) {
    List<Pod> l = new ArrayList<>(pods);
    l.sort(Comparator.comparing(Pod::ref));
    return List.copyOf(l);
  }

  private static List<PortBinding> sortedBindings(Collection<PortBinding> bindings) {
    List<PortBinding> l = new ArrayList<>(bindings);
    l.sort(Comparator.comparing(PortBinding::pod));
    return List.copyOf(l);
  }

  // ------------------------------------------------------------------ shapes

  /** Interned shape keys; ids are never reused. */
  record ShapeIds(LayeredMap<List<Object>, Integer> ids, int nextId) {
    ShapeIds intern(List<Object> key, int[] out) {
      Integer id = ids.get(key);
      if (id != null) {
        out[0] = id;
        return this;
      }
      out[0] = nextId;
      return new ShapeIds(ids.with(key, nextId), nextId + 1);
    }
  }

  /**
   * Which policies' directions and rules are identical, as small ids: two policy directions with the same namespace,
   * podSelector and rules get the same direction id; two rules with the same namespace, podSelector, direction and
   * rule get the same rule id. Computed once per policy version so that every switch's compile compares ints.
   */
  record Shape(int ingress, int egress, int[] ingressRules, int[] egressRules) {
    /** Gives each distinct key an id. */
    interface Interner {
      int id(List<Object> key);
    }

    static Shape of(NetworkPolicy np, Interner ids) {
      String ns = np.ref().namespace();
      int in = ids.id(List.of(ns, np.podSelector(), "in", np.ingress()));
      int eg = ids.id(List.of(ns, np.podSelector(), "out", np.egress()));
      int[] inRules = new int[np.ingress().size()];
      for (int i = 0; i < inRules.length; i++) {
        inRules[i] = ids.id(List.of(ns, np.podSelector(), "in", np.ingress().get(i)));
      }
      int[] egRules = new int[np.egress().size()];
      for (int i = 0; i < egRules.length; i++) {
        egRules[i] = ids.id(List.of(ns, np.podSelector(), "out", np.egress().get(i)));
      }
      return new Shape(in, eg, inRules, egRules);
    }
  }

  private volatile Map<Integer, String> ruleOwners;

  /**
   * The rule whose flows this rule shares, as {@code namespace/policy Direction rule N}, when an identical rule
   * (same namespace, podSelector, direction and rule) comes earlier in policy order; empty when the rule has flows of
   * its own. A shared rule's traffic is counted under its owner's cookie.
   */
  public java.util.Optional<String> sharesFlowsWith(NetworkPolicy np, boolean ingress, int rule) {
    Map<Integer, String> owners = ruleOwners;
    if (owners == null) {
      owners = new HashMap<>();
      for (List<NetworkPolicy> list : new TreeMap<>(policiesByNamespace).values()) {
        for (NetworkPolicy p : list) {
          Shape sh = shapes.get(p.ref());
          // only directions the policy isolates are compiled, so only they can own flows
          for (int i = 0; p.isolatesIngress() && i < sh.ingressRules().length; i++) {
            owners.putIfAbsent(sh.ingressRules()[i], p.ref() + " Ingress rule " + i);
          }
          for (int i = 0; p.isolatesEgress() && i < sh.egressRules().length; i++) {
            owners.putIfAbsent(sh.egressRules()[i], p.ref() + " Egress rule " + i);
          }
        }
      }
      ruleOwners = owners;
    }
    Shape sh = shapes.get(np.ref());
    if (sh == null) {
      return java.util.Optional.empty();
    }
    int[] ids = ingress ? sh.ingressRules() : sh.egressRules();
    if (rule < 0 || rule >= ids.length) {
      return java.util.Optional.empty();
    }
    String owner = owners.get(ids[rule]);
    String self = np.ref() + (ingress ? " Ingress rule " : " Egress rule ") + rule;
    return owner == null || owner.equals(self) ? java.util.Optional.empty() : java.util.Optional.of(owner);
  }

  /** The shape ids of a policy of this index. */
  Shape shape(NetworkPolicy np) {
    return shapes.get(np.ref());
  }

  // ------------------------------------------------------------------ plain lookups

  public Snapshot snapshot() {
    return snap;
  }

  ConjunctionIds ids() {
    return ids;
  }

  /** A pod address as a host prefix, parsed once. */
  Cidr cidr(String ip) {
    return memos.addresses.computeIfAbsent(ip, Cidr::parse);
  }

  /** Every rule id of the snapshot's policies (both parts of each rule), in policy order. */
  public List<PolicyCompiler.RuleRef> rules() {
    List<PolicyCompiler.RuleRef> r = rules;
    if (r == null) {
      List<NetworkPolicy> all = new ArrayList<>();
      new TreeMap<>(policiesByNamespace).values().forEach(all::addAll);
      r = List.copyOf(PolicyCompiler.rules(this, all));
      rules = r;
    }
    return r;
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

  /** The port bindings of one switch, in pod order (the same list object while they do not change). */
  List<PortBinding> bindingsOn(long dpid) {
    return bindingsByDpid.getOrDefault(dpid, List.of());
  }

  /** Pods with an address that are not hostNetwork, in namespace/name order. */
  List<Pod> allPods() {
    List<Pod> a = allPods;
    if (a == null) {
      List<Pod> out = new ArrayList<>();
      new TreeMap<>(podsByNamespace).values().forEach(out::addAll);
      a = List.copyOf(out);
      allPods = a;
    }
    return a;
  }

  /** The eligible pods of a namespace, in name order (the same list object while they do not change). */
  List<Pod> podsIn(String namespace) {
    return podsByNamespace.getOrDefault(namespace, List.of());
  }

  /** Policies of one namespace, in name order (the same list object while they do not change). */
  List<NetworkPolicy> policiesIn(String namespace) {
    return policiesByNamespace.getOrDefault(namespace, List.of());
  }

  /** Labels of a namespace; one without a manifest is read as the API server would create it. */
  Map<String, String> namespaceLabels(String ns) {
    Namespace n = snap.namespaces().get(ns);
    return n != null ? n.labels() : Map.of("kubernetes.io/metadata.name", ns);
  }

  // ------------------------------------------------------------------ selections

  /**
   * The pods a Pods peer of a policy in {@code policyNamespace} selects (hostNetwork pods never). A selection whose
   * pods did not change keeps its list object from one generation to the next.
   */
  List<Pod> select(String policyNamespace, NetworkPolicy.Peer.Pods peer) {
    Optional<LabelSelector> nsSel = peer.namespaceSelector();
    Object key = nsSel.isEmpty() ? List.of(policyNamespace, peer.podSelector()) : List.of(nsSel.get(), peer.podSelector());
    List<Pod> cached = selections.get(key);
    if (cached != null) {
      return cached;
    }
    List<Pod> result = nsSel.isEmpty() ? selectInNamespace(key, policyNamespace, peer.podSelector())
        : selectAcrossNamespaces(key, nsSel.get(), peer.podSelector());
    List<Pod> raced = selections.putIfAbsent(key, result);
    return raced != null ? raced : result;
  }

  private List<Pod> selectInNamespace(Object key, String ns, LabelSelector podSelector) {
    List<Pod> input = podsIn(ns);
    Memos.Selection old = memos.selections.get(key);
    if (old != null && old.inputs().length == 1 && old.inputs()[0] == input) {
      return old.result();
    }
    List<Pod> out = new ArrayList<>();
    for (Pod p : input) {
      if (podSelector.matches(p.labels())) {
        out.add(p);
      }
    }
    List<Pod> result = old != null && old.result().equals(out) ? old.result() : List.copyOf(out);
    memos.selections.put(key, new Memos.Selection(new Object[] {input}, result));
    return result;
  }

  /** inputs: the namespaces map, the set of namespaces with pods, then the pod list of each matching namespace. */
  private List<Pod> selectAcrossNamespaces(Object key, LabelSelector nsSelector, LabelSelector podSelector) {
    Memos.Selection old = memos.selections.get(key);
    if (old != null && old.inputs().length >= 2 && old.inputs()[0] == snap.namespaces() && old.inputs()[1] == podNamespaces) {
      boolean same = true;
      for (int i = 2; i < old.inputs().length && same; i += 2) {
        same = podsIn((String) old.inputs()[i]) == old.inputs()[i + 1];
      }
      if (same) {
        return old.result();
      }
    }
    List<String> namespaces = new ArrayList<>(podsByNamespace.keySet());
    namespaces.sort(null);
    List<Object> inputs = new ArrayList<>(List.of(snap.namespaces(), podNamespaces));
    List<Pod> out = new ArrayList<>();
    for (String ns : namespaces) {
      if (nsSelector.matches(namespaceLabels(ns))) {
        List<Pod> pods = podsIn(ns);
        inputs.add(ns);
        inputs.add(pods);
        for (Pod p : pods) {
          if (podSelector.matches(p.labels())) {
            out.add(p);
          }
        }
      }
    }
    List<Pod> result = old != null && old.result().equals(out) ? old.result() : List.copyOf(out);
    memos.selections.put(key, new Memos.Selection(inputs.toArray(), result));
    return result;
  }

  /** The addresses a rule's peers stand for, computed by {@code compute} when the peers' selections changed. */
  List<Cidr> peerAddresses(String namespace, List<NetworkPolicy.Peer> peers,
                           BiFunction<String, List<NetworkPolicy.Peer>, List<Cidr>> compute) {
    List<Object> key = List.of(namespace, peers);
    Object[] inputs = peerInputs(namespace, peers);
    Memos.Addresses old = memos.peerAddresses.get(key);
    if (old != null && sameInputs(old.inputs(), inputs)) {
      return old.result();
    }
    List<Cidr> computed = List.copyOf(compute.apply(namespace, peers));
    List<Cidr> result = old != null && old.result().equals(computed) ? old.result() : computed;
    memos.peerAddresses.put(key, new Memos.Addresses(inputs, result));
    return result;
  }

  /** The peers' addresses as source or destination matches, recomputed when the addresses changed. */
  List<Match> peerMatches(String namespace, List<NetworkPolicy.Peer> peers, boolean source, List<Cidr> addresses,
                          Supplier<List<Match>> compute) {
    List<Object> key = List.of(namespace, peers, source);
    Memos.Matches old = memos.peerMatches.get(key);
    if (old != null && old.addresses() == addresses) {
      return old.result();
    }
    List<Match> result = List.copyOf(compute.get());
    memos.peerMatches.put(key, new Memos.Matches(addresses, result));
    return result;
  }

  private Object[] peerInputs(String namespace, List<NetworkPolicy.Peer> peers) {
    Object[] in = new Object[peers.size()];
    for (int i = 0; i < in.length; i++) {
      in[i] = peers.get(i) instanceof NetworkPolicy.Peer.Pods pods ? select(namespace, pods) : null;
    }
    return in;
  }

  private static boolean sameInputs(Object[] a, Object[] b) {
    if (a.length != b.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (a[i] != b[i]) {
        return false;
      }
    }
    return true;
  }

  /** An address as a source or destination match (a pure function, memoized: every switch builds the same ones). */
  Match hostMatch(Cidr c, boolean source) {
    Map<Cidr, Match> m = source ? memos.sourceMatches : memos.destinationMatches;
    Match v = m.get(c);
    if (v == null) {
      v = PolicyCompiler.hostMatch(c, source);
      m.putIfAbsent(c, v);
    }
    return v;
  }

  /** The matches of a rule's port for one family (a pure function, memoized like {@link #hostMatch}). */
  List<Match> portMatches(boolean v6, NetworkPolicy.Port p,
                          java.util.function.BiFunction<Boolean, NetworkPolicy.Port, List<Match>> compute) {
    Map<NetworkPolicy.Port, List<Match>> m = v6 ? memos.portMatches6 : memos.portMatches4;
    List<Match> v = m.get(p);
    if (v == null) {
      v = List.copyOf(compute.apply(v6, p));
      m.putIfAbsent(p, v);
    }
    return v;
  }

  /** Distinct peer selectors resolved in this generation (address sets), for reporting. */
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

  /**
   * Memos one index hands to the next: selections and peer address sets with the inputs they were computed from,
   * so a later generation reuses an entry (and its identity) only when its inputs are the very same objects.
   */
  static final class Memos {
    record Selection(Object[] inputs, List<Pod> result) { }

    record Addresses(Object[] inputs, List<Cidr> result) { }

    record Matches(List<Cidr> addresses, List<Match> result) { }

    final Map<Object, Selection> selections = new ConcurrentHashMap<>();
    final Map<List<Object>, Addresses> peerAddresses = new ConcurrentHashMap<>();
    final Map<List<Object>, Matches> peerMatches = new ConcurrentHashMap<>();
    final Map<String, Cidr> addresses = new ConcurrentHashMap<>();
    final Map<Cidr, Match> sourceMatches = new ConcurrentHashMap<>();
    final Map<Cidr, Match> destinationMatches = new ConcurrentHashMap<>();
    final Map<NetworkPolicy.Port, List<Match>> portMatches4 = new ConcurrentHashMap<>();
    final Map<NetworkPolicy.Port, List<Match>> portMatches6 = new ConcurrentHashMap<>();

    /**
     * Entries of deleted policies and pods are never looked up again; when the memos hold several times what the
     * cluster can use, the next generation starts afresh (its switches then render once more).
     */
    boolean outgrown(Snapshot snap) {
      if (addresses.size() > 4L * (snap.pods().size() + 1024) || sourceMatches.size() + destinationMatches.size()
          > 16L * (snap.pods().size() + 1024) || portMatches4.size() + portMatches6.size() > 65_536) {
        return true;
      }
      long cheap = 1024 + 4L * snap.networkPolicies().size();
      if (selections.size() <= cheap && peerAddresses.size() <= cheap && peerMatches.size() <= 2 * cheap) {
        return false;
      }
      long peers = 0; // what the policies can use at most: one entry per peer list and per peer
      for (NetworkPolicy np : snap.networkPolicies().values()) {
        for (List<NetworkPolicy.Rule> rules : List.of(np.ingress(), np.egress())) {
          for (NetworkPolicy.Rule r : rules) {
            peers += 1 + r.peers().size();
          }
        }
      }
      long bound = 1024 + 4 * peers;
      return selections.size() > bound || peerAddresses.size() > bound || peerMatches.size() > 2 * bound;
    }
  }
}
