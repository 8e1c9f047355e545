package io.sluice.renderer.index;

import io.sluice.model.EndpointSlice;
import io.sluice.model.LabelSelector;
import io.sluice.model.Namespace;
import io.sluice.model.ObjectRef;
import io.sluice.model.PersistentMap;
import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The cluster as every feature's compile reads it, for one snapshot: pods by namespace, port bindings by switch,
 * Services by namespace, EndpointSlices by service, and the pods a selector stands for, resolved once per distinct
 * selector and generation whichever feature (NetworkPolicy peers, Service selectors) or switch asks first. Immutable
 * but for its memos; safe to use from several threads.
 *
 * <p>{@link #of} builds an index from scratch; {@link #next} derives the index of a later snapshot from this one in
 * time proportional to what changed ({@link PersistentMap#diff}), sharing every list and selection that did not
 * change. Unchanged parts keep their identity from one generation to the next: a compile that records which objects
 * it read can tell, by identity alone, that a later generation would give it the same flows.
 *
 * <p>Pods here are those with an address that are not hostNetwork: the pods with addresses of their own, which is what
 * a selector stands for (a hostNetwork pod has its node's addresses).
 */
public final class SelectorIndex {
  private static final Groups<String, ObjectRef, Pod> PODS = new Groups<>(p -> p.ref().namespace(), Pod::ref,
      SelectorIndex::eligible, Comparator.comparing(Pod::ref));
  private static final Groups<Long, ObjectRef, PortBinding> BINDINGS = new Groups<>(PortBinding::dpid,
      PortBinding::pod, b -> true, Comparator.comparing(PortBinding::pod));
  private static final Groups<String, ObjectRef, Service> SERVICES = new Groups<>(s -> s.ref().namespace(),
      Service::ref, s -> true, Comparator.comparing(Service::ref));
  private static final Groups<ServiceKey, ObjectRef, EndpointSlice> SLICES = new Groups<>(
      s -> new ServiceKey(s.ref().namespace(), s.serviceName()), EndpointSlice::ref, s -> !s.serviceName().isEmpty(),
      Comparator.comparing(EndpointSlice::ref));

  private final Snapshot snap;
  /** Pods with an address that are not hostNetwork, by namespace, each list in name order. */
  private final PersistentMap<String, List<Pod>> podsByNamespace;
  /** Replaced (a new object) whenever the set of namespaces that have pods changes. */
  private final Object podNamespaces;
  private final PersistentMap<Long, List<PortBinding>> bindingsByDpid;
  private final PersistentMap<String, List<Service>> servicesByNamespace;
  private final PersistentMap<ServiceKey, List<EndpointSlice>> slicesByService;
  private final MemoBound bound;
  /** Selections shared by consecutive generations; every entry is checked against this index's inputs before use. */
  private final Memo memo;
  /** This generation's resolved selections (after validation against the shared memo). */
  private final Map<Object, List<Pod>> selections = new ConcurrentHashMap<>();
  private volatile List<Pod> allPods;

  /**
   * Whether the memo of selections, holding {@code entries} (beyond room the index keeps for Services itself), still
   * is about what the index's users can ask of {@code snap}. Entries of deleted selectors are never looked up again,
   * so when the memo holds several times what the users' selectors can ask, the next index starts it afresh (and
   * every selection then gets a new identity once).
   */
  @FunctionalInterface
  public interface MemoBound {
    boolean allows(Snapshot snap, int entries);
  }

  /** The memo bound of an index whose only users of selections are Services. */
  private static final MemoBound SERVICES_ONLY = (snap, entries) -> entries <= Memo.BASE;

  private SelectorIndex(Snapshot snap, PersistentMap<String, List<Pod>> podsByNamespace, Object podNamespaces,
                        PersistentMap<Long, List<PortBinding>> bindingsByDpid,
                        PersistentMap<String, List<Service>> servicesByNamespace,
                        PersistentMap<ServiceKey, List<EndpointSlice>> slicesByService, MemoBound bound, Memo memo,
                        List<Pod> allPods) {
    this.snap = snap;
    this.podsByNamespace = podsByNamespace;
    this.podNamespaces = podNamespaces;
    this.bindingsByDpid = bindingsByDpid;
    this.servicesByNamespace = servicesByNamespace;
    this.slicesByService = slicesByService;
    this.bound = bound;
    this.memo = memo;
    this.allPods = allPods;
  }

  /** An index of a snapshot, built from scratch, whose only users of selections are Services. */
  public static SelectorIndex of(Snapshot snap) {
    return of(snap, SERVICES_ONLY);
  }

  /**
   * An index of a snapshot, built from scratch; {@code bound} judges the size of the memo of selections for the users
   * other than Services (it is kept by every index {@link #next} derives from this one).
   */
  public static SelectorIndex of(Snapshot snap, MemoBound bound) {
    return new SelectorIndex(snap, PODS.of(snap.pods().values()), new Object(), BINDINGS.of(snap.bindings().values()),
        SERVICES.of(snap.services().values()), SLICES.of(snap.endpointSlices().values()), bound, new Memo(), null);
  }

  /**
   * The index of {@code later}, derived from this one: only namespaces, switches and services that changed are
   * recomputed. Falls back to {@link #of} when the two snapshots differ in many objects (a resync).
   */
  public SelectorIndex next(Snapshot later) {
    if (later == snap) {
      return this;
    }
    int limit = Math.max(1_000, (later.pods().size() + later.networkPolicies().size() + later.services().size()
        + later.endpointSlices().size()) / 20); // a twentieth of the objects
    List<Groups.Change<Pod>> pods = new ArrayList<>();
    List<Groups.Change<PortBinding>> bindings = new ArrayList<>();
    List<Groups.Change<Service>> services = new ArrayList<>();
    List<Groups.Change<EndpointSlice>> slices = new ArrayList<>();
    int[] nsChanges = {0};
    boolean small = PersistentMap.diff(persistent(snap.pods()), persistent(later.pods()), limit,
        (k, a, b) -> pods.add(new Groups.Change<>(a, b)))
        && PersistentMap.diff(persistent(snap.bindings()), persistent(later.bindings()), limit,
        (k, a, b) -> bindings.add(new Groups.Change<>(a, b)))
        && PersistentMap.diff(persistent(snap.namespaces()), persistent(later.namespaces()), limit,
        (k, a, b) -> nsChanges[0]++)
        && PersistentMap.diff(persistent(snap.services()), persistent(later.services()), limit,
        (k, a, b) -> services.add(new Groups.Change<>(a, b)))
        && PersistentMap.diff(persistent(snap.endpointSlices()), persistent(later.endpointSlices()), limit,
        (k, a, b) -> slices.add(new Groups.Change<>(a, b)));
    if (!small || pods.size() + bindings.size() + nsChanges[0] + services.size() + slices.size() > limit) {
      return of(later, bound);
    }
    PersistentMap<String, List<Pod>> podsNext = PODS.regroup(podsByNamespace, pods);
    Object podNamespacesNext = podNamespaces;
    for (Groups.Change<Pod> c : pods) {
      String ns = (c.before() != null ? c.before() : c.after()).ref().namespace();
      if (podsByNamespace.containsKey(ns) != podsNext.containsKey(ns)) {
        podNamespacesNext = new Object();
        break;
      }
    }
    return new SelectorIndex(later, podsNext, podNamespacesNext, BINDINGS.regroup(bindingsByDpid, bindings),
        SERVICES.regroup(servicesByNamespace, services), SLICES.regroup(slicesByService, slices), bound,
        memo.outgrown(later, bound) ? new Memo() : memo, pods.isEmpty() ? allPods : null);
  }

  @SuppressWarnings("unchecked")
  private static <K, V> PersistentMap<K, V> persistent(Map<K, V> m) {
    return (PersistentMap<K, V>) m; // Snapshot's maps are persistent (its constructor makes them so)
  }

  private static boolean eligible(Pod p) {
    return !p.hostNetwork() && !p.ips().isEmpty();
  }

  // ------------------------------------------------------------------ plain lookups

  public Snapshot snapshot() {
    return snap;
  }

  /** The pods of a namespace, in name order (the same list object while they do not change). */
  public List<Pod> podsIn(String namespace) {
    return podsByNamespace.getOrDefault(namespace, List.of());
  }

  /** Every pod, in namespace/name order (the same list object while no pod changes). */
  public List<Pod> allPods() {
    List<Pod> a = allPods;
    if (a == null) {
      List<Pod> out = new ArrayList<>();
      new TreeMap<>(podsByNamespace).values().forEach(out::addAll);
      a = List.copyOf(out);
      allPods = a;
    }
    return a;
  }

  /** The port bindings of one switch, in pod order (the same list object while they do not change). */
  public List<PortBinding> bindingsOn(long dpid) {
    return bindingsByDpid.getOrDefault(dpid, List.of());
  }

  /** The Services of a namespace, in name order (the same list object while they do not change). */
  public List<Service> servicesIn(String namespace) {
    return servicesByNamespace.getOrDefault(namespace, List.of());
  }

  /**
   * The EndpointSlices of a service ({@link EndpointSlice#serviceName()} is its name, in its namespace), in name order
   * (the same list object while they do not change). A slice without the service-name label belongs to no service.
   */
  public List<EndpointSlice> endpointSlicesOf(ObjectRef service) {
    return slicesByService.getOrDefault(new ServiceKey(service.namespace(), service.name()), List.of());
  }

  /** Labels of a namespace; one without a manifest is read as the API server would create it. */
  private Map<String, String> namespaceLabels(String namespace) {
    Namespace n = snap.namespaces().get(namespace);
    return n != null ? n.labels() : Map.of("kubernetes.io/metadata.name", namespace);
  }

  /** A service of the EndpointSlice index; its name may be empty (a slice without the label), unlike an ObjectRef's. */
  private record ServiceKey(String namespace, String name) { }

  // ------------------------------------------------------------------ selections

  /**
   * The pods of {@code namespace} that {@code podSelector} selects. A selection whose pods did not change keeps its
   * list object from one generation to the next.
   */
  public List<Pod> select(String namespace, LabelSelector podSelector) {
    InNamespace key = new InNamespace(namespace, podSelector);
    List<Pod> cached = selections.get(key);
    return cached != null ? cached : resolved(key, selectInNamespace(key));
  }

  /**
   * The pods {@code podSelector} selects in the namespaces {@code namespaceSelector} selects (a namespace without a
   * manifest has the labels the API server would give it). A selection whose pods did not change keeps its list object.
   */
  public List<Pod> select(LabelSelector namespaceSelector, LabelSelector podSelector) {
    AcrossNamespaces key = new AcrossNamespaces(namespaceSelector, podSelector);
    List<Pod> cached = selections.get(key);
    return cached != null ? cached : resolved(key, selectAcrossNamespaces(key));
  }

  /**
   * The pods of {@code namespace} whose labels hold every pair of {@code selector} (a Service's spec.selector). It is
   * the selection of the label selector with those matchLabels, shared with any other user of that selector. The
   * empty selector selects every pod of the namespace, as a label selector does: a Service without a selector
   * (endpoints managed by hand) selects no pod, and its caller must not ask.
   */
  public List<Pod> selectEqual(String namespace, Map<String, String> selector) {
    return select(namespace, LabelSelector.of(selector));
  }

  /** Distinct selections resolved in this generation (for policies, their address sets), for reporting. */
  public int selections() {
    return selections.size();
  }

  private List<Pod> resolved(Object key, List<Pod> result) {
    List<Pod> raced = selections.putIfAbsent(key, result);
    return raced != null ? raced : result;
  }

  private record InNamespace(String namespace, LabelSelector podSelector) { }

  private record AcrossNamespaces(LabelSelector namespaceSelector, LabelSelector podSelector) { }

  /** inputs: the namespace's pod list. */
  private List<Pod> selectInNamespace(InNamespace key) {
    List<Pod> input = podsIn(key.namespace());
    Memo.Selection old = memo.selections.get(key);
    if (old != null && old.inputs().length == 1 && old.inputs()[0] == input) {
      return old.result();
    }
    List<Pod> out = new ArrayList<>();
    for (Pod p : input) {
      if (key.podSelector().matches(p.labels())) {
        out.add(p);
      }
    }
    List<Pod> result = old != null && old.result().equals(out) ? old.result() : List.copyOf(out);
    memo.selections.put(key, new Memo.Selection(new Object[] {input}, result));
    return result;
  }

  /** inputs: the namespaces map, the set of namespaces with pods, then the pod list of each matching namespace. */
  private List<Pod> selectAcrossNamespaces(AcrossNamespaces key) {
    Memo.Selection old = memo.selections.get(key);
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
      if (key.namespaceSelector().matches(namespaceLabels(ns))) {
        List<Pod> pods = podsIn(ns);
        inputs.add(ns);
        inputs.add(pods);
        for (Pod p : pods) {
          if (key.podSelector().matches(p.labels())) {
            out.add(p);
          }
        }
      }
    }
    List<Pod> result = old != null && old.result().equals(out) ? old.result() : List.copyOf(out);
    memo.selections.put(key, new Memo.Selection(inputs.toArray(), result));
    return result;
  }

  /**
   * Selections one index hands to the next, with the inputs they were computed from, so a later generation reuses an
   * entry (and its identity) only when its inputs are the very same objects.
   */
  private static final class Memo {
    /** Entries any memo may hold, whatever its users. */
    static final int BASE = 1024;

    record Selection(Object[] inputs, List<Pod> result) { }

    final Map<Object, Selection> selections = new ConcurrentHashMap<>();

    /** Services hold one selector each: the index keeps room for them itself, and asks {@code bound} about the rest. */
    boolean outgrown(Snapshot snap, MemoBound bound) {
      long entries = selections.size() - 4L * snap.services().size();
      return entries > BASE && !bound.allows(snap, (int) entries);
    }
  }
}
