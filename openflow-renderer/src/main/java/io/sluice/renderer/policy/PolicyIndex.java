package io.sluice.renderer.policy;

import io.sluice.model.LabelSelector;
import io.sluice.model.NetworkPolicy;
import io.sluice.model.ObjectRef;
import io.sluice.model.PersistentMap;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.index.SelectorIndex;
import java.util.ArrayList;
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
 * What every switch's compile shares for one snapshot: the cluster's {@link SelectorIndex} (pods by namespace,
 * bindings by switch, the pods each peer selector stands for, resolved once per distinct selector), and the policy
 * side of it: policies by namespace, the rules' conjunction ids and shapes, and the address sets and matches the
 * rules' peers become. Immutable but for its memos; safe to use from several threads.
 *
 * <p>{@link #of} builds an index from scratch; {@link #next} derives the index of a later snapshot from this one in
 * time proportional to what changed ({@link PersistentMap#diff}), sharing every per-namespace list, binding list and
 * selection that did not change. Unchanged parts keep their identity from one generation to the next, which is what
 * lets a switch whose inputs are all identical keep its rendered tables ({@link io.sluice.renderer.Renderer}).
 */
public final class PolicyIndex {
  /** What the selector memo may hold for a snapshot's policies: the peer memos' own bound ({@link Memos#outgrown}). */
  private static final SelectorIndex.MemoBound PEERS = (snap, entries) -> entries <= Memos.cheap(snap)
      || entries <= Memos.bound(snap);
  private final SelectorIndex selectors;
  private final PersistentMap<String, List<NetworkPolicy>> policiesByNamespace;
  private final ConjunctionIds ids;
  private final LayeredMap<ObjectRef, Shape> shapes;
  private final ShapeIds shapeIds;
  /** Memos shared by consecutive generations; every entry is checked against this index's inputs before use. */
  private final Memos memos;
  private volatile List<PolicyCompiler.RuleRef> rules;

  private PolicyIndex(SelectorIndex selectors, PersistentMap<String, List<NetworkPolicy>> policiesByNamespace,
                      ConjunctionIds ids, LayeredMap<ObjectRef, Shape> shapes, ShapeIds shapeIds, Memos memos) {
    this.selectors = selectors;
    this.policiesByNamespace = policiesByNamespace;
    this.ids = ids;
    this.shapes = shapes;
    this.shapeIds = shapeIds;
    this.memos = memos;
  }

  /** An index of a snapshot, built from scratch. */
  public static PolicyIndex of(Snapshot snap) {
    return of(SelectorIndex.of(snap, PEERS));
  }

  /** The policy side of an index built from scratch, over the cluster's {@code selectors}. */
  private static PolicyIndex of(SelectorIndex selectors) {
    List<NetworkPolicy> policies = new ArrayList<>(selectors.snapshot().networkPolicies().values());
    policies.sort(Comparator.comparing(NetworkPolicy::ref));
    Map<String, List<NetworkPolicy>> byNs = new HashMap<>();
    for (NetworkPolicy np : policies) {
      byNs.computeIfAbsent(np.ref().namespace(), k -> new ArrayList<>()).add(np);
    }
    byNs.replaceAll((ns, list) -> List.copyOf(list));
    Map<List<Object>, Integer> interned = new HashMap<>();
    Shape.Interner plain = key -> interned.computeIfAbsent(key, k -> interned.size());
    Map<ObjectRef, Shape> shapes = new HashMap<>();
    for (NetworkPolicy np : policies) {
      shapes.put(np.ref(), Shape.of(np, plain));
    }
    ShapeIds shapeIds = new ShapeIds(LayeredMap.over(interned), interned.size());
    return new PolicyIndex(selectors, PersistentMap.build(byNs), ConjunctionIds.of(policies), LayeredMap.over(shapes),
        shapeIds, new Memos());
  }

  /**
   * The index of {@code later}, derived from this one: only namespaces, switches and policies that changed are
   * recomputed ({@link SelectorIndex#next} derives the cluster's part). Each part falls back to a build from scratch
   * when the two snapshots differ in many of its objects (a resync).
   */
  public PolicyIndex next(Snapshot later) {
    Snapshot snap = selectors.snapshot();
    if (later == snap) {
      return this;
    }
    SelectorIndex selectorsNext = selectors.next(later);
    int limit = Math.max(1_000, (later.pods().size() + later.networkPolicies().size()) / 20);
    Map<ObjectRef, NetworkPolicy[]> policies = new LinkedHashMap<>();
    boolean small = PersistentMap.diff(persistent(snap.networkPolicies()), persistent(later.networkPolicies()), limit,
        (k, a, b) -> policies.put(k, new NetworkPolicy[] {a, b}));
    if (!small || policies.size() > limit) {
      return of(selectorsNext);
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

    return new PolicyIndex(selectorsNext, policiesNs, idsNext, shapesNext, shapeIdsNext,
        memos.outgrown(later) ? new Memos() : memos);
  }

  @SuppressWarnings("unchecked")
  private static <K, V> PersistentMap<K, V> persistent(Map<K, V> m) {
    return (PersistentMap<K, V>) m; // Snapshot's maps are persistent (its constructor makes them so)
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
      // A direction that isolates differs from the same rules that only allow (a pre-v1 policy); their rules do not.
      String kind = np.allowOnly() ? "allow-only" : "isolates";
      int in = ids.id(List.of(ns, np.podSelector(), "in", kind, np.ingress()));
      int eg = ids.id(List.of(ns, np.podSelector(), "out", kind, np.egress()));
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
    return selectors.snapshot();
  }

  /**
   * The cluster's selector index of this generation, which this index's policy selections go through: the same
   * instance for every reader of this generation, so a Service compile that resolves its selectors there shares them.
   */
  public SelectorIndex selectors() {
    return selectors;
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
  public List<PortBinding> bindingsOn(long dpid) {
    return selectors.bindingsOn(dpid);
  }

  /** Pods with an address that are not hostNetwork, in namespace/name order. */
  List<Pod> allPods() {
    return selectors.allPods();
  }

  /** The eligible pods of a namespace, in name order (the same list object while they do not change). */
  List<Pod> podsIn(String namespace) {
    return selectors.podsIn(namespace);
  }

  /** Policies of one namespace, in name order (the same list object while they do not change). */
  List<NetworkPolicy> policiesIn(String namespace) {
    return policiesByNamespace.getOrDefault(namespace, List.of());
  }

  // ------------------------------------------------------------------ selections

  /**
   * The pods a Pods peer of a policy in {@code policyNamespace} selects (hostNetwork pods never). A selection whose
   * pods did not change keeps its list object from one generation to the next.
   */
  List<Pod> select(String policyNamespace, NetworkPolicy.Peer.Pods peer) {
    Optional<LabelSelector> nsSel = peer.namespaceSelector();
    return nsSel.isEmpty() ? selectors.select(policyNamespace, peer.podSelector())
        : selectors.select(nsSel.get(), peer.podSelector());
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

  /**
   * Distinct selections resolved in this generation (each peer selector's address set, and any Service selector resolved
   * through {@link #selectors()}), for reporting.
   */
  public int addressSets() {
    return selectors.selections();
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
   * Memos one index hands to the next: peer address sets with the selections they were computed from, so a later
   * generation reuses an entry (and its identity) only when its inputs are the very same objects, and pure functions
   * of an address or a port. (The selections themselves are the {@link SelectorIndex}'s.)
   */
  static final class Memos {
    record Addresses(Object[] inputs, List<Cidr> result) { }

    record Matches(List<Cidr> addresses, List<Match> result) { }

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
      long cheap = cheap(snap);
      if (peerAddresses.size() <= cheap && peerMatches.size() <= 2 * cheap) {
        return false;
      }
      long bound = bound(snap);
      return peerAddresses.size() > bound || peerMatches.size() > 2 * bound;
    }

    /** A bound on the entries per peer list or peer that needs no walk over the policies. */
    static long cheap(Snapshot snap) {
      return 1024 + 4L * snap.networkPolicies().size();
    }

    /** What the policies can use at most: one entry per peer list and per peer. */
    static long bound(Snapshot snap) {
      long peers = 0;
      for (NetworkPolicy np : snap.networkPolicies().values()) {
        for (List<NetworkPolicy.Rule> rules : List.of(np.ingress(), np.egress())) {
          for (NetworkPolicy.Rule r : rules) {
            peers += 1 + r.peers().size();
          }
        }
      }
      return 1024 + 4 * peers;
    }
  }
}
