package io.sluice.renderer.service;

import io.sluice.model.EndpointSlice;
import io.sluice.model.ObjectRef;
import io.sluice.model.PersistentMap;
import io.sluice.model.PortBinding;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.FlowKey;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.flow.NatBackend;
import io.sluice.renderer.flow.SharedTables;
import io.sluice.renderer.index.SelectorIndex;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every Service of one snapshot as flows and groups (see the package doc). Immutable. {@link #of} compiles a
 * snapshot; {@link #next} derives a later one's from this one, recompiling only the Services whose object, slices,
 * endpoint bindings or group numbers changed, and updating the shared tables entry by entry (persistent maps): an
 * endpoint change costs about the size of its Service, not the number of Services. It returns this very object's
 * tables when no Service input changed.
 *
 * <p>Group numbers: a hash of the Service port's identity, probing upward on a collision. A number, once given, stays
 * with its Service port for as long as the port exists, so a change to one Service never renumbers another's group;
 * new ports probe in Service order.
 */
public final class ServiceTables {
  /** More changed objects than this between two snapshots: compile everything again rather than diffing. */
  private static final int DIFF_LIMIT = 2_048;

  private final PipelineProfile profile;
  private final Snapshot snapshot;
  private final int round;
  private final State state;
  private List<Flow> flowList;
  private List<Group> groupList;

  /**
   * Everything a next generation updates: compiled Services, group numbers, the pods each Service's endpoints name,
   * and the shared tables' maps with reference counts for what several Services share (an endpoint's flow, a UDP
   * backend).
   */
  private record State(PersistentMap<ObjectRef, Compiled> byService, PersistentMap<GroupKey, Long> ids,
                       PersistentMap<Long, GroupKey> used, PersistentMap<ObjectRef, Set<ObjectRef>> servicesByPod,
                       PersistentMap<FlowKey, Flow> flows, PersistentMap<FlowKey, Integer> endpointRefs,
                       PersistentMap<Long, Group> groups, PersistentMap<NatBackend, Integer> natRefs, int rejecting,
                       SharedTables shared, PersistentMap<ObjectRef, Map<String, List<Flow>>> nodeFlows,
                       int masquerading, int healthChecking) {
    static final State EMPTY = new State(PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty(),
        PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty(),
        PersistentMap.empty(), 0, SharedTables.EMPTY, PersistentMap.empty(), 0, 0);
  }

  /** Per node name, that node's switches' own Service flows (built on first use). */
  private final Map<String, List<Flow>> nodeFlowCache = new java.util.concurrent.ConcurrentHashMap<>();
  /** Datapath id → the name of the Node that names it (built on first use). */
  private volatile Map<Long, String> nodeByDpid;

  private ServiceTables(PipelineProfile profile, Snapshot snapshot, int round, State state) {
    this.profile = profile;
    this.snapshot = snapshot;
    this.round = round;
    this.state = state;
  }

  /** Compiles every Service of a snapshot; each flow is checked against the profile's table declarations. */
  public static ServiceTables of(PipelineProfile profile, Snapshot snapshot, int round) {
    return of(profile, SelectorIndex.of(snapshot), round);
  }

  /** Compiles every Service of the index's snapshot, reading each Service's EndpointSlices from the index. */
  public static ServiceTables of(PipelineProfile profile, SelectorIndex index, int round) {
    Set<ObjectRef> all = new HashSet<>(index.snapshot().services().keySet());
    return new ServiceTables(profile, index.snapshot(), round, update(profile, round, State.EMPTY, index, all));
  }

  /** The tables of a later snapshot, reusing what did not change. */
  public ServiceTables next(Snapshot later) {
    return later == snapshot ? this : next(SelectorIndex.of(later));
  }

  /** The tables of the index's (later) snapshot, reusing what did not change. */
  public ServiceTables next(SelectorIndex later) {
    Snapshot snap = later.snapshot();
    if (snap == snapshot) {
      return this;
    }
    if (snap.services() == snapshot.services() && snap.endpointSlices() == snapshot.endpointSlices()
        && snap.bindings() == snapshot.bindings() && nodeAddresses(snap).equals(nodeAddresses(snapshot))) {
      return new ServiceTables(profile, snap, round, state);
    }
    Set<ObjectRef> dirty = changedServices(snapshot, snap);
    if (dirty == null) { // not diffable, or a large change: look at every Service (unchanged ones are still reused)
      dirty = new HashSet<>(snap.services().keySet());
      dirty.addAll(state.byService().keySet());
    }
    State s = update(profile, round, state, later, dirty);
    return new ServiceTables(profile, snap, round, s);
  }

  /**
   * The Services whose inputs may differ between two snapshots: changed Service objects, the Services of changed
   * slices, and the Services whose endpoints name a pod whose binding changed; null when the maps cannot be diffed
   * or differ in more than {@link #DIFF_LIMIT} places.
   */
  private Set<ObjectRef> changedServices(Snapshot before, Snapshot after) {
    if (!(before.services() instanceof PersistentMap<ObjectRef, Service> s0)
        || !(after.services() instanceof PersistentMap<ObjectRef, Service> s1)
        || !(before.endpointSlices() instanceof PersistentMap<ObjectRef, EndpointSlice> e0)
        || !(after.endpointSlices() instanceof PersistentMap<ObjectRef, EndpointSlice> e1)
        || !(before.bindings() instanceof PersistentMap<ObjectRef, PortBinding> b0)
        || !(after.bindings() instanceof PersistentMap<ObjectRef, PortBinding> b1)) {
      return null;
    }
    Set<ObjectRef> dirty = new HashSet<>();
    boolean complete = PersistentMap.diff(s0, s1, DIFF_LIMIT, (ref, o, n) -> dirty.add(ref))
        && PersistentMap.diff(e0, e1, DIFF_LIMIT, (ref, o, n) -> {
          addServiceOf(o, dirty);
          addServiceOf(n, dirty);
        })
        && PersistentMap.diff(b0, b1, DIFF_LIMIT, (pod, o, n) -> dirty.addAll(state.servicesByPod().getOrDefault(pod, Set.of())));
    if (complete && !nodeAddresses(before).equals(nodeAddresses(after))) {
      // a node's addresses (or the nodes themselves) changed: every Service with per-node flows is compiled again
      dirty.addAll(state.nodeFlows().keySet());
      for (Service s : after.services().values()) {
        if (nodeDependent(s)) {
          dirty.add(s.ref());
        }
      }
    }
    return complete && dirty.size() <= DIFF_LIMIT ? dirty : null;
  }

  /** Node name → its InternalIPs, sorted by name: all that Service flows read of the nodes. */
  private static Map<String, List<String>> nodeAddresses(Snapshot snap) {
    Map<String, List<String>> out = new java.util.TreeMap<>();
    snap.nodes().forEach((name, node) -> out.put(name, node.internalIPs()));
    return out;
  }

  /**
   * The name of the Node whose {@value io.sluice.model.Node#DATAPATH_IDS_ANNOTATION} annotation names this switch
   * (the first in name order if several do), or "" when none does: such a switch answers no NodePort and has no
   * local endpoints.
   */
  public String nodeOf(long dpid) {
    Map<Long, String> m = nodeByDpid;
    if (m == null) {
      Map<Long, String> built = new java.util.HashMap<>();
      new java.util.TreeMap<>(snapshot.nodes()).forEach((name, node) ->
          node.datapathIds().forEach(d -> built.putIfAbsent(d, name)));
      nodeByDpid = m = built;
    }
    return m.getOrDefault(dpid, "");
  }

  /**
   * The Service flows only the switches of one node hold (node "" for a switch no Node names), in Service order: its
   * NodePorts on its own addresses, and the virtual addresses whose traffic policy is Local, sent to its own endpoints
   * (or dropped when it has none). They use the shared groups.
   */
  public List<Flow> nodeFlows(String node) {
    return nodeFlowCache.computeIfAbsent(node, n -> {
      List<Flow> out = new ArrayList<>();
      new java.util.TreeMap<>(state.nodeFlows()).values().forEach(m -> out.addAll(m.getOrDefault(n, m.getOrDefault("", List.of()))));
      io.sluice.model.Node named = n.isEmpty() ? null : snapshot.nodes().get(n);
      if (state.masquerading() > 0 && named != null) {
        out.addAll(masqueradeFlows(named.internalIPs(), round));
      }
      return Collections.unmodifiableList(out);
    });
  }

  /**
   * What a load balancer probing {@code healthCheckNodePort} {@code port} on a switch of {@code node} is told, as
   * kube-proxy's health check server tells it: the Service that port belongs to (type LoadBalancer,
   * {@code externalTrafficPolicy: Local}) and how many of its endpoints on that node are ready (distinct addresses,
   * every slice); empty when no such Service has that port.
   */
  public java.util.Optional<Health> health(String node, int port) {
    Map<Integer, Compiled> m = byHealthPort;
    if (m == null) {
      Map<Integer, Compiled> built = new java.util.HashMap<>();
      for (Compiled c : inServiceOrder()) {
        if (c.healthChecks()) {
          built.putIfAbsent(c.service().healthCheckNodePort(), c);
        }
      }
      byHealthPort = m = built;
    }
    Compiled c = m.get(port);
    if (c == null) {
      return java.util.Optional.empty();
    }
    Set<String> local = new TreeSet<>();
    for (EndpointSlice slice : c.slices()) {
      for (EndpointSlice.Endpoint e : slice.endpoints()) {
        if (e.ready() && !e.addresses().isEmpty() && !node.isEmpty() && e.nodeName().equals(node)) {
          local.add(e.targetPod().map(ObjectRef::toString).orElse(e.addresses().get(0))); // a pod once, both families
        }
      }
    }
    return java.util.Optional.of(new Health(c.service().ref(), local.size()));
  }

  /** A health check's answer: the Service and its ready endpoints on the probed node. */
  public record Health(ObjectRef service, int localEndpoints) { }

  private volatile Map<Integer, Compiled> byHealthPort;

  private static void addServiceOf(EndpointSlice slice, Set<ObjectRef> into) {
    if (slice != null && !slice.serviceName().isEmpty()) {
      into.add(new ObjectRef(slice.ref().namespace(), slice.serviceName()));
    }
  }

  /** The flows and groups, keyed once, for every switch's {@link io.sluice.renderer.flow.DesiredTables} to refer to. */
  public SharedTables shared() {
    return state.shared();
  }

  /** The snapshot these tables were compiled (or carried over) for. */
  public Snapshot snapshot() {
    return snapshot;
  }

  /**
   * The ServiceLB and ServiceEndpoint flows of every switch (switch-independent), Service by Service in name order,
   * then the per-endpoint flows each once. Built on first use (for printing and tests; switches use {@link #shared}).
   */
  public synchronized List<Flow> flows() {
    if (flowList == null) {
      List<Flow> f = new ArrayList<>();
      Map<FlowKey, Flow> endpoint = new java.util.LinkedHashMap<>();
      for (Compiled c : inServiceOrder()) {
        f.addAll(c.flows());
        c.endpointFlows().forEach(m -> endpoint.putIfAbsent(m.key(), m));
      }
      f.addAll(endpoint.values());
      flowList = Collections.unmodifiableList(f);
    }
    return flowList;
  }

  /** The select groups those flows use, Service by Service in name order. */
  public synchronized List<Group> groups() {
    if (groupList == null) {
      List<Group> g = new ArrayList<>();
      inServiceOrder().forEach(c -> g.addAll(c.groups()));
      groupList = Collections.unmodifiableList(g);
    }
    return groupList;
  }

  private List<Compiled> inServiceOrder() {
    return new java.util.TreeMap<>(state.byService()).values().stream().toList();
  }

  /** The UDP and SCTP backends the groups DNAT new connections to (every switch's; see {@link SharedTables}). */
  public Set<NatBackend> natBackends() {
    return state.shared().natBackends();
  }

  /** Whether this and {@code other} hold the very same compiled flows and groups (a re-render can be skipped). */
  public boolean sameAs(ServiceTables other) {
    return other != null && other.state.shared() == state.shared() && other.state.nodeFlows() == state.nodeFlows()
        && (other.state.masquerading() > 0) == (state.masquerading() > 0)
        && (state.masquerading() == 0 || other.snapshot.nodes() == snapshot.nodes()
            || nodeAddresses(other.snapshot).equals(nodeAddresses(snapshot))); // the masquerade flows read them
  }

  // ------------------------------------------------------------------ compile

  /**
   * One Service's compiled part, and what it was compiled from; {@code natBackends}: the UDP and SCTP backends its
   * buckets DNAT to.
   */
  private record Compiled(Service service, List<EndpointSlice> slices, List<PortBinding> bindings, List<Long> groupIds,
                          Map<String, List<String>> nodes, List<Flow> flows, List<Group> groups,
                          List<Flow> endpointFlows, List<NatBackend> natBackends, Map<String, List<Flow>> nodeFlows) {
    /** Whether this compiles to the same flows, groups and backends as {@code o}. */
    boolean sameOutput(Compiled o) {
      return flows.equals(o.flows) && groups.equals(o.groups) && endpointFlows.equals(o.endpointFlows)
          && natBackends.equals(o.natBackends) && nodeFlows.equals(o.nodeFlows);
    }

    /** Whether some of its flows ask for the node's masquerade (external traffic, policy Cluster). */
    boolean masquerades() {
      return java.util.stream.Stream.concat(flows.stream(), nodeFlows.values().stream().flatMap(List::stream))
          .anyMatch(x -> x.actions().contains(MASQUERADE_ACTION));
    }

    /** Whether its flows send health checks of its healthCheckNodePort to the controller. */
    boolean healthChecks() {
      return nodeFlows.values().stream().flatMap(List::stream).anyMatch(x -> x.actions().contains(HEALTH_METER_ACTION));
    }

    boolean rejects() {
      return flows.stream().anyMatch(x -> x.actions().contains(REJECT_METER_ACTION))
          || nodeFlows.values().stream().flatMap(List::stream).anyMatch(x -> x.actions().contains(REJECT_METER_ACTION));
    }

    /** The pods this Service's endpoints name. */
    Set<ObjectRef> pods() {
      Set<ObjectRef> out = new HashSet<>();
      for (EndpointSlice s : slices) {
        for (EndpointSlice.Endpoint e : s.endpoints()) {
          e.targetPod().ifPresent(out::add);
        }
      }
      return out;
    }
  }

  /**
   * A Service port in one address family: one group; with a node name, the group of that node's endpoints only;
   * {@code leaf} 0 for that group, 1 to n for the leaves it points at when its endpoints do not fit one group
   * ({@link Leaves}).
   */
  private record GroupKey(ObjectRef service, String port, Protocol protocol, boolean v6, String node, int leaf) {
    GroupKey leaf(int i) {
      return new GroupKey(service, port, protocol, v6, node, i);
    }

    long hash() {
      long h = 0xcbf29ce484222325L;
      for (String s : new String[] {service.toString(), "|", port, "|", protocol.name(), v6 ? "|6" : "|4",
          node.isEmpty() ? "" : "|node|" + node, leaf == 0 ? "" : "|leaf|" + leaf}) {
        for (int i = 0; i < s.length(); i++) {
          h = (h ^ (s.charAt(i) & 0xff)) * 0x100000001b3L;
        }
      }
      return (h ^ (h >>> 32)) & 0xff_ffffL;
    }
  }

  /**
   * The state after looking again at the {@code dirty} Services (those that may have changed; the rest are taken as
   * they are): group numbers released and given, each dirty Service recompiled unless its inputs are equal to its
   * last compile, and the shared maps updated by what each recompiled Service no longer and now contributes.
   */
  /** The pods-to-Services index after {@code service}'s endpoints named {@code now} instead of {@code before}. */
  private static void renamed(Staged<ObjectRef, Set<ObjectRef>> byPod, ObjectRef service, Set<ObjectRef> before,
                              Set<ObjectRef> now) {
    for (ObjectRef pod : before) {
      if (!now.contains(pod)) {
        Set<ObjectRef> svcs = new HashSet<>(byPod.getOrDefault(pod, Set.of()));
        svcs.remove(service);
        if (svcs.isEmpty()) {
          byPod.without(pod);
        } else {
          byPod.with(pod, Set.copyOf(svcs));
        }
      }
    }
    for (ObjectRef pod : now) {
      Set<ObjectRef> svcs = byPod.getOrDefault(pod, Set.of());
      if (!svcs.contains(service)) {
        Set<ObjectRef> more = new HashSet<>(svcs);
        more.add(service);
        byPod.with(pod, Set.copyOf(more));
      }
    }
  }

  /**
   * A persistent map being updated: entry by entry, or (bulk, from an empty map) in a plain map built into a
   * persistent one at the end, bottom up, which is several times cheaper for a first compile of many Services.
   */
  private static final class Staged<K, V> {
    private PersistentMap<K, V> persistent;
    private final Map<K, V> plain;
    private boolean changed;

    Staged(PersistentMap<K, V> base, boolean bulk) {
      persistent = base;
      plain = bulk ? new java.util.HashMap<>(base) : null;
    }

    V get(K key) {
      return plain != null ? plain.get(key) : persistent.get(key);
    }

    V getOrDefault(K key, V otherwise) {
      V v = get(key);
      return v != null ? v : otherwise;
    }

    boolean containsKey(K key) {
      return get(key) != null;
    }

    void with(K key, V value) {
      changed = true;
      if (plain != null) {
        plain.put(key, value);
      } else {
        persistent = persistent.with(key, value);
      }
    }

    void without(K key) {
      changed = true;
      if (plain != null) {
        plain.remove(key);
      } else {
        persistent = persistent.without(key);
      }
    }

    boolean changed() {
      return changed;
    }

    PersistentMap<K, V> result() {
      if (plain != null && changed) {
        persistent = PersistentMap.build(plain);
        changed = false;
      }
      return persistent;
    }
  }

  private static State update(PipelineProfile profile, int round, State st, SelectorIndex index, Set<ObjectRef> dirty) {
    Snapshot snap = index.snapshot();
    List<ObjectRef> order = new ArrayList<>(dirty);
    Collections.sort(order);
    boolean bulk = st == State.EMPTY; // a first compile: fill plain maps, then build the persistent ones bottom up
    Map<ObjectRef, List<EndpointSlice>> slicesOf = new java.util.HashMap<>();
    for (ObjectRef ref : order) {
      slicesOf.put(ref, index.endpointSlicesOf(ref));
    }
    Map<String, List<String>> nodeAddresses = null;
    Staged<GroupKey, Long> ids = new Staged<>(st.ids(), bulk);
    Staged<Long, GroupKey> used = new Staged<>(st.used(), bulk);
    // group numbers: release those of ports that are gone, then give new ports theirs, in Service order
    for (ObjectRef ref : order) {
      Compiled old = st.byService().get(ref);
      Service now = snap.services().get(ref);
      List<GroupKey> keep = now == null ? List.of() : groupKeys(now, slicesOf.get(ref));
      for (GroupKey k : old == null ? List.<GroupKey>of() : groupKeys(old.service(), old.slices())) {
        Long id = ids.get(k);
        if (id != null && !keep.contains(k)) {
          ids.without(k);
          used.without(id & 0xff_ffffL);
        }
      }
    }
    for (ObjectRef ref : order) {
      Service now = snap.services().get(ref);
      for (GroupKey k : now == null ? List.<GroupKey>of() : groupKeys(now, slicesOf.get(ref))) {
        if (!ids.containsKey(k)) {
          long n = k.hash();
          while (used.containsKey(n)) {
            n = (n + 1) & 0xff_ffffL;
          }
          used.with(n, k);
          ids.with(k, Group.ownedId(n));
        }
      }
    }
    // recompile; the replaced compiles' contributions all leave before the new ones come (two Services may trade a key)
    List<Compiled> gone = new ArrayList<>();
    List<Compiled> added = new ArrayList<>();
    Staged<ObjectRef, Compiled> byService = new Staged<>(st.byService(), bulk);
    Staged<ObjectRef, Set<ObjectRef>> byPod = new Staged<>(st.servicesByPod(), bulk);
    Staged<ObjectRef, Map<String, List<Flow>>> nodeFlows = new Staged<>(st.nodeFlows(), bulk);
    for (ObjectRef ref : order) {
      Compiled old = byService.get(ref);
      Service s = snap.services().get(ref);
      Compiled c = null;
      if (s != null) {
        List<EndpointSlice> slices = slicesOf.get(ref);
        List<PortBinding> bindings = bindingsOf(snap, slices);
        List<GroupKey> keys = groupKeys(s, slices);
        List<Long> groupIds = keys.stream().map(ids::get).toList();
        if (nodeAddresses == null) {
          nodeAddresses = nodeAddresses(snap);
        }
        Map<String, List<String>> nodes = nodeDependent(s) ? nodeAddresses : Map.of();
        if (old != null && old.service().equals(s) && sameElements(old.slices(), slices)
            && old.bindings().equals(bindings) && old.groupIds().equals(groupIds) && old.nodes().equals(nodes)) {
          continue;
        }
        c = compile(s, slices, bindings, keys, groupIds, nodes, snap, round);
        c.flows().forEach(profile::check);
        c.endpointFlows().forEach(profile::check);
        c.nodeFlows().values().forEach(l -> l.forEach(profile::check));
        if (old != null && c.sameOutput(old)) { // new inputs, the same tables (e.g. a not-ready endpoint added)
          byService.with(ref, c);
          renamed(byPod, ref, old.pods(), c.pods());
          continue;
        }
      }
      if (old == null && c == null) {
        continue;
      }
      renamed(byPod, ref, old == null ? Set.of() : old.pods(), c == null ? Set.of() : c.pods());
      if (old != null) {
        gone.add(old);
      }
      if (c != null) {
        added.add(c);
        byService.with(ref, c);
      } else {
        byService.without(ref);
      }
      if (c != null && !c.nodeFlows().isEmpty()) {
        nodeFlows.with(ref, c.nodeFlows());
      } else if (nodeFlows.containsKey(ref)) {
        nodeFlows.without(ref);
      }
    }
    if (gone.isEmpty() && added.isEmpty()) {
      return !byService.changed() && !ids.changed() ? st : new State(byService.result(), ids.result(), used.result(),
          byPod.result(), st.flows(), st.endpointRefs(), st.groups(), st.natRefs(), st.rejecting(), st.shared(),
          st.nodeFlows(), st.masquerading(), st.healthChecking());
    }
    Staged<FlowKey, Flow> flows = new Staged<>(st.flows(), bulk);
    Staged<FlowKey, Integer> endpointRefs = new Staged<>(st.endpointRefs(), bulk);
    Staged<Long, Group> groups = new Staged<>(st.groups(), bulk);
    Staged<NatBackend, Integer> natRefs = new Staged<>(st.natRefs(), bulk);
    int rejecting = st.rejecting();
    int masquerading = st.masquerading();
    int healthChecking = st.healthChecking();
    for (Compiled c : gone) {
      for (Flow f : c.flows()) {
        flows.without(f.key());
      }
      for (Group g : c.groups()) {
        groups.without(g.id());
      }
      for (Flow f : c.endpointFlows()) {
        if (release(endpointRefs, f.key())) {
          flows.without(f.key());
        }
      }
      c.natBackends().forEach(b -> release(natRefs, b));
      rejecting -= c.rejects() ? 1 : 0;
      masquerading -= c.masquerades() ? 1 : 0;
      healthChecking -= c.healthChecks() ? 1 : 0;
    }
    List<Flow> newFlows = new ArrayList<>();
    List<Group> newGroups = new ArrayList<>();
    for (Compiled c : added) {
      for (Flow f : c.flows()) {
        putFlow(flows, f);
        newFlows.add(f);
      }
      for (Group g : c.groups()) {
        groups.with(g.id(), g);
        newGroups.add(g);
      }
      for (Flow f : c.endpointFlows()) {
        if (hold(endpointRefs, f.key())) { // an endpoint of several Services: one flow
          putFlow(flows, f);
          newFlows.add(f);
        }
      }
      c.natBackends().forEach(b -> hold(natRefs, b));
      rejecting += c.rejects() ? 1 : 0;
      masquerading += c.masquerades() ? 1 : 0;
      healthChecking += c.healthChecks() ? 1 : 0;
    }
    PersistentMap<NatBackend, Integer> natNow = natRefs.result();
    Set<NatBackend> nat = natNow == st.natRefs() ? st.shared().natBackends()
        : Collections.unmodifiableSet(new TreeSet<>(natNow.keySet()));
    Map<Long, Meter> meters = new java.util.TreeMap<>();
    if (rejecting > 0) {
      meters.put(REJECT_METER.id(), REJECT_METER);
    }
    if (healthChecking > 0) {
      meters.put(HEALTH_METER.id(), HEALTH_METER);
    }
    SharedTables shared = SharedTables.keyed(flows.result(), groups.result(), Collections.unmodifiableMap(meters), nat,
        newFlows, newGroups);
    return new State(byService.result(), ids.result(), used.result(), byPod.result(), flows.result(),
        endpointRefs.result(), groups.result(), natNow, rejecting, shared, nodeFlows.changed() ? nodeFlows.result()
        : st.nodeFlows(), masquerading, healthChecking);
  }

  /** Adds a shared flow; another flow with its identity is an error (two Services claiming one address and port). */
  private static void putFlow(Staged<FlowKey, Flow> flows, Flow f) {
    Flow old = flows.get(f.key());
    if (old != null && !old.equals(f)) {
      throw new IllegalArgumentException("two shared flows share table, priority and match:\n" + old + "\n" + f);
    }
    flows.with(f.key(), f);
  }

  /** One more user of {@code key}; true if it is the first. */
  private static <K> boolean hold(Staged<K, Integer> refs, K key) {
    Integer n = refs.get(key);
    refs.with(key, n == null ? 1 : n + 1);
    return n == null;
  }

  /** One user fewer of {@code key}; true if that was the last. */
  private static <K> boolean release(Staged<K, Integer> refs, K key) {
    int n = refs.get(key) - 1;
    if (n == 0) {
      refs.without(key);
    } else {
      refs.with(key, n);
    }
    return n == 0;
  }

  private static boolean sameElements(List<EndpointSlice> a, List<EndpointSlice> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i) != b.get(i) && !a.get(i).equals(b.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** The bindings of the slices' endpoint pods, in slice and endpoint order (null where a pod is not bound). */
  private static List<PortBinding> bindingsOf(Snapshot snap, List<EndpointSlice> slices) {
    List<PortBinding> out = new ArrayList<>();
    for (EndpointSlice s : slices) {
      for (EndpointSlice.Endpoint e : s.endpoints()) {
        out.add(e.targetPod().map(p -> snap.bindings().get(p)).orElse(null));
      }
    }
    return Collections.unmodifiableList(out);
  }

  /** Whether a Service gets a virtual address at all: not ExternalName, not headless, with a cluster IP. */
  static boolean balanced(Service s) {
    return s.type() != Service.Type.EXTERNAL_NAME && !s.headless() && !s.clusterIPs().isEmpty();
  }

  /**
   * The groups of a Service: one per port and family, and, when a traffic policy is Local, one more per port, family
   * and node that one of its slices' endpoints names ({@code nodeName}): that node's endpoints only. Each followed by
   * its leaves, when its endpoints do not fit one group.
   */
  private static List<GroupKey> groupKeys(Service s, List<EndpointSlice> slices) {
    if (!balanced(s)) {
      return List.of();
    }
    Set<String> nodes = new TreeSet<>();
    if (needsLocal(s)) {
      for (EndpointSlice slice : slices) {
        for (EndpointSlice.Endpoint e : slice.endpoints()) {
          if (!e.nodeName().isEmpty()) {
            nodes.add(e.nodeName());
          }
        }
      }
    }
    List<GroupKey> keys = new ArrayList<>();
    int listed = 0;
    for (EndpointSlice slice : slices) {
      listed += slice.endpoints().size();
    }
    boolean mayNeedLeaves = listed > Leaves.MAX_BUCKETS; // (a port has at most as many backends as the slices list)
    for (boolean v6 : families(s)) {
      for (Service.Port p : s.ports()) {
        List<Endpoints.Backend> backends = mayNeedLeaves ? Endpoints.of(p, v6, slices) : List.of();
        withLeaves(keys, new GroupKey(s.ref(), p.name(), p.protocol(), v6, "", 0), backends);
        for (String n : nodes) {
          withLeaves(keys, new GroupKey(s.ref(), p.name(), p.protocol(), v6, n, 0),
              backends.stream().filter(b -> b.endpoint().nodeName().equals(n)).toList());
        }
      }
    }
    return keys;
  }

  /** Adds a group's key, then its leaves' keys when these backends need leaves. */
  private static void withLeaves(List<GroupKey> keys, GroupKey k, List<Endpoints.Backend> backends) {
    keys.add(k);
    for (int i = 1, n = Leaves.count(backends); i <= n; i++) {
      keys.add(k.leaf(i));
    }
  }

  /** Whether some of a Service's traffic goes only to the endpoints on the node it enters. */
  private static boolean needsLocal(Service s) {
    return s.internalTrafficPolicy() == Service.TrafficPolicy.LOCAL
        || s.externalTrafficPolicy() == Service.TrafficPolicy.LOCAL;
  }

  /** A port's NodePort, or 0: only NodePort and LoadBalancer Services open theirs. */
  private static int nodePort(Service s, Service.Port p) {
    return s.type() == Service.Type.NODE_PORT || s.type() == Service.Type.LOAD_BALANCER ? p.nodePort() : 0;
  }

  /** Whether a Service has flows that differ from node to node (NodePorts, a Local traffic policy). */
  static boolean nodeDependent(Service s) {
    return balanced(s) && (needsLocal(s) || s.ports().stream().anyMatch(p -> nodePort(s, p) > 0));
  }

  /** The address families of a Service's cluster IPs (IPv4 first), each once. */
  private static List<Boolean> families(Service s) {
    boolean v4 = false;
    boolean v6 = false;
    for (String ip : virtualAddressTexts(s)) {
      if (ip.indexOf(':') >= 0) {
        v6 = true;
      } else {
        v4 = true;
      }
    }
    List<Boolean> out = new ArrayList<>(2);
    if (v4) {
      out.add(false);
    }
    if (v6) {
      out.add(true);
    }
    return out;
  }

  /**
   * Where the new connections of one virtual address go: a group and its backends; for a Local traffic policy, the
   * node's own endpoints, and none means dropped (as kube-proxy drops), not refused.
   */
  private record Target(long gid, List<Endpoints.Backend> backends, boolean local, boolean masquerade) {
    Target(long gid, List<Endpoints.Backend> backends, boolean local) {
      this(gid, backends, local, false);
    }

    /** The same, for traffic from outside under {@code externalTrafficPolicy: Cluster}: masqueraded to the node. */
    Target masqueraded() {
      return new Target(gid, backends, local, true);
    }
  }

  private static Compiled compile(Service s, List<EndpointSlice> slices, List<PortBinding> bindings, List<GroupKey> keys,
                                  List<Long> groupIds, Map<String, List<String>> nodes, Snapshot snap, int round) {
    List<Flow> flows = new ArrayList<>();
    List<Group> groups = new ArrayList<>();
    List<Flow> endpointFlows = new ArrayList<>();
    List<NatBackend> natBackends = new ArrayList<>();
    if (!balanced(s)) {
      return new Compiled(s, slices, bindings, groupIds, nodes, List.of(), List.of(), List.of(), List.of(), Map.of());
    }
    Map<GroupKey, Long> gids = new java.util.HashMap<>();
    for (int i = 0; i < keys.size(); i++) {
      gids.put(keys.get(i), groupIds.get(i));
    }
    boolean affinity = s.sessionAffinity() == Service.SessionAffinity.CLIENT_IP;
    boolean internalLocal = s.internalTrafficPolicy() == Service.TrafficPolicy.LOCAL;
    boolean externalLocal = s.externalTrafficPolicy() == Service.TrafficPolicy.LOCAL;
    Map<String, List<Flow>> perNode = new java.util.TreeMap<>();
    if (nodeDependent(s)) {
      perNode.put("", new ArrayList<>());
      nodes.keySet().forEach(n -> perNode.put(n, new ArrayList<>()));
    }
    for (boolean v6 : families(s)) {
      List<byte[]> clusterIps = distinct(s.clusterIPs(), v6, List.of());
      List<String> externalTexts = new ArrayList<>(s.externalIPs());
      externalTexts.addAll(s.loadBalancerIngressIPs());
      List<byte[]> external = distinct(externalTexts, v6, clusterIps);
      for (Service.Port sp : s.ports()) {
        GroupKey key = new GroupKey(s.ref(), sp.name(), sp.protocol(), v6, "", 0);
        long gid = gids.get(key);
        List<Endpoints.Backend> backends = Endpoints.of(sp, v6, slices);
        Cookie cookie = Cookie.of(Cookie.Category.SERVICE, round, gid & 0xff_ffffL);
        int timeout = affinityTimeout(s);
        if (!backends.isEmpty()) {
          groups.addAll(groups(key, gids, backends, affinity, snap));
        }
        for (Endpoints.Backend b : backends) {
          backendOf(b, sp, round, endpointFlows, natBackends);
        }
        Target cluster = new Target(gid, backends, false);
        Map<String, Target> local = new java.util.TreeMap<>();
        for (GroupKey k : keys) {
          if (!k.node().isEmpty() && k.leaf() == 0 && k.v6() == v6 && k.port().equals(sp.name())
              && k.protocol() == sp.protocol()) {
            // the node's ready endpoints, or, when none of them is ready, its serving terminating ones (KEP-1669
            // looks at the node's own endpoints: another node's ready ones do not take this fallback away)
            List<Endpoints.Backend> mine = Endpoints.of(sp, v6, slices, e -> e.nodeName().equals(k.node()));
            if (!mine.isEmpty()) {
              groups.addAll(groups(k, gids, mine, affinity, snap));
            }
            for (Endpoints.Backend b : mine) {
              if (backends.stream().noneMatch(c -> c.key().equals(b.key()))) { // a fallback endpoint only here
                backendOf(b, sp, round, endpointFlows, natBackends);
              }
            }
            // no endpoint anywhere: refused, as kube-proxy rejects whatever the policy; none here but elsewhere: dropped
            local.put(k.node(), new Target(gids.get(k), mine, !backends.isEmpty() || !mine.isEmpty()));
          }
        }
        // a node without endpoints of its own drops, unless the Service has none anywhere: then it refuses
        Target noneHere = new Target(0, List.of(), !backends.isEmpty());
        for (byte[] raw : internalLocal ? List.<byte[]>of() : clusterIps) {
          entry(raw, sp.port(), sp, cluster, affinity, timeout, cookie, snap, flows);
        }
        for (byte[] raw : externalLocal ? List.<byte[]>of() : external) {
          entry(raw, sp.port(), sp, cluster.masqueraded(), affinity, timeout, cookie, snap, flows);
        }
        for (Map.Entry<String, List<Flow>> e : perNode.entrySet()) {
          Target mine = local.getOrDefault(e.getKey(), noneHere);
          for (byte[] raw : internalLocal ? clusterIps : List.<byte[]>of()) {
            entry(raw, sp.port(), sp, mine, affinity, timeout, cookie, snap, e.getValue());
          }
          for (byte[] raw : externalLocal ? external : List.<byte[]>of()) {
            entry(raw, sp.port(), sp, mine, affinity, timeout, cookie, snap, e.getValue());
          }
          int nodePort = nodePort(s, sp);
          if (nodePort > 0) {
            for (byte[] raw : distinct(nodes.getOrDefault(e.getKey(), List.of()), v6, List.of())) {
              entry(raw, nodePort, sp, externalLocal ? mine : cluster.masqueraded(), affinity, timeout, cookie, snap,
                  e.getValue());
            }
          }
        }
      }
    }
    if (externalLocal && s.healthCheckNodePort() > 0 && s.type() == Service.Type.LOAD_BALANCER) {
      // the load balancer's probe of this node: answered by the controller from the node's local endpoints
      Cookie cookie = Cookie.of(Cookie.Category.SERVICE, round, HEALTH_OBJECT);
      for (Map.Entry<String, List<Flow>> e : perNode.entrySet()) {
        for (boolean v6 : new boolean[] {false, true}) {
          for (byte[] raw : distinct(nodes.getOrDefault(e.getKey(), List.of()), v6, List.of())) {
            e.getValue().add(new Flow(PipelineProfile.CT_ZONE, 120,
                portMatch(raw, Protocol.TCP, s.healthCheckNodePort()).build(),
                List.of(HEALTH_METER_ACTION, new Action.Controller(HEALTH_MAX_LEN)), cookie));
          }
        }
      }
    }
    Map<String, List<Flow>> nodeFlows = new java.util.TreeMap<>();
    perNode.forEach((n, l) -> {
      if (!l.isEmpty()) { // (a node without flows has none for the switch without node either: see nodeFlows)
        nodeFlows.put(n, List.copyOf(l));
      }
    });
    return new Compiled(s, slices, bindings, groupIds, nodes, List.copyOf(flows), List.copyOf(groups),
        List.copyOf(endpointFlows), List.copyOf(natBackends), Collections.unmodifiableMap(nodeFlows));
  }

  /**
   * The select groups of one group key over {@code backends}: one group; or, when they do not fit one
   * ({@link Leaves}), the key's group with one bucket per leaf, weighted by the leaf's backends (so every backend stays
   * equally likely), then the leaves in order, each a group over its backends and one more bucket of weight 1 that
   * repeats the first, which keeps OVS from choosing within the leaf by the parent's hash ({@link Leaves}). A leaf
   * without backends is left out.
   */
  private static List<Group> groups(GroupKey key, Map<GroupKey, Long> gids, List<Endpoints.Backend> backends,
                                    boolean affinity, Snapshot snap) {
    List<List<Endpoints.Backend>> leaves = Leaves.of(backends);
    if (leaves.size() == 1) {
      return List.of(group(gids.get(key), backends, affinity, snap));
    }
    List<Group> out = new ArrayList<>(leaves.size() + 1);
    List<Group.Bucket> parent = new ArrayList<>(leaves.size());
    out.add(null);
    for (int i = 0; i < leaves.size(); i++) {
      List<Endpoints.Backend> leaf = leaves.get(i);
      if (!leaf.isEmpty()) {
        long id = gids.get(key.leaf(i + 1));
        parent.add(new Group.Bucket(leaf.size(), List.of(new Action.Group(id))));
        Group g = group(id, leaf, affinity, snap);
        List<Group.Bucket> buckets = new ArrayList<>(g.buckets());
        buckets.add(new Group.Bucket(Leaves.OFF_DP_HASH_WEIGHT, g.buckets().get(0).actions()));
        out.add(new Group(id, Group.Type.SELECT, buckets));
      }
    }
    out.set(0, new Group(gids.get(key), Group.Type.SELECT, parent));
    return out;
  }

  /**
   * What one backend adds besides its bucket: its hairpin flow and, for UDP and SCTP, its place among the backends
   * whose conntrack entries sync clears when they stop being one.
   */
  private static void backendOf(Endpoints.Backend b, Service.Port sp, int round, List<Flow> endpointFlows,
                                List<NatBackend> natBackends) {
    endpointFlows.add(new Flow(PipelineProfile.SERVICE_ENDPOINT, 110, hairpinMatch(b.address()),
        hairpinActions(b.address()), Cookie.of(Cookie.Category.SERVICE, round, ENDPOINT_OBJECT)));
    if (sp.protocol() != Protocol.TCP) {
      natBackends.add(NatBackend.of(b.address(), b.port(), sp.protocol() == Protocol.UDP ? NatBackend.UDP
          : NatBackend.SCTP));
    }
  }

  /** A port's select group over {@code backends}: DNAT buckets, or, with affinity, buckets that only name their endpoint. */
  private static Group group(long gid, List<Endpoints.Backend> backends, boolean affinity, Snapshot snap) {
    List<Group.Bucket> buckets = new ArrayList<>(backends.size());
    for (Endpoints.Backend b : backends) {
      // with affinity the bucket only names its endpoint (OVS runs a bucket as an action set, which has no learn) and
      // lets table 15 learn the choice for this client and DNAT; a choice learned earlier reaches the same flow
      buckets.add(new Group.Bucket(100, affinity ? affinityChoice(b) : bucketActions(b, macOf(b, snap))));
    }
    return new Group(gid, Group.Type.SELECT, buckets);
  }

  /**
   * The flows of one virtual address and port (a cluster IP, an external or load-balancer IP, or a node address and
   * NodePort): new connections to the target's group; with affinity through tables 14 and 15. No backend: refused
   * through the controller, or, for a Local target, dropped.
   */
  private static void entry(byte[] raw, int port, Service.Port sp, Target t, boolean affinity, int timeout, Cookie cookie,
                            Snapshot snap, List<Flow> out) {
    if (t.backends().isEmpty()) {
      out.add(new Flow(PipelineProfile.SERVICE_LB, 200, vipMatch(raw, sp.protocol(), port),
          t.local() ? List.of() : List.of(REJECT_METER_ACTION, new Action.Controller(REJECT_MAX_LEN)), cookie));
      return;
    }
    List<Action> first = t.masquerade() ? List.of(MASQUERADE_ACTION) : List.of();
    if (!affinity) {
      out.add(new Flow(PipelineProfile.SERVICE_LB, 200, vipMatch(raw, sp.protocol(), port),
          concat(first, new Action.Group(t.gid())), cookie));
      return;
    }
    // a learned choice loads the affinity registers in 14; 15 learns and DNATs to it, or (none, or not an endpoint
    // any more) applies the group, whose bucket loads its endpoint and comes back to 15
    out.add(new Flow(PipelineProfile.SERVICE_LB, 200, vipMatch(raw, sp.protocol(), port), concat(first,
        new Action.Resubmit(PipelineProfile.SERVICE_AFFINITY),
        new Action.GotoTable(PipelineProfile.SERVICE_AFFINITY_ENDPOINT)), cookie));
    // the source port copied only so the datapath caches this path per connection: a client's next
    // connection is translated anew and finds what this one learns (a cached path would skip table 14)
    out.add(new Flow(PipelineProfile.SERVICE_AFFINITY_ENDPOINT, 100, portMatch(raw, sp.protocol(), port).build(),
        List.of(new Action.Move(srcField(sp.protocol()), 0, PipelineProfile.AFFINITY_SCRATCH, 0, 16),
            new Action.Group(t.gid())), cookie));
    boolean v6 = raw.length == 16;
    for (Endpoints.Backend b : t.backends()) {
      List<Action> learnThenDnat = new ArrayList<>(2);
      learnThenDnat.add(affinityLearn(sp, v6, b, timeout, cookie.value() & 0xff_ffffL));
      learnThenDnat.addAll(bucketActions(b, macOf(b, snap)));
      out.add(new Flow(PipelineProfile.SERVICE_AFFINITY_ENDPOINT, 200, affinityMatch(raw, sp.protocol(), port, b),
          learnThenDnat, cookie));
    }
  }

  private static List<Action> concat(List<Action> first, Action... then) {
    List<Action> out = new ArrayList<>(first);
    out.addAll(List.of(then));
    return out;
  }

  /** Table 11's word to table 50 that a new connection is to be masqueraded (reg6 bit 0). */
  static final Action MASQUERADE_ACTION = new Action.Load(PipelineProfile.MASQUERADE_REG, 0, 1,
      PipelineProfile.MASQUERADE_THIS);
  /** The cookie object id of the masquerade flows of a node's switches. */
  static final long MASQUERADE_OBJECT = 0xfffffeL;

  /**
   * A node's masquerade, on its switches, while some Service masquerades: in table 10, packets to the node's own
   * addresses are first looked up in the masquerade zone (a reply to the SNAT is un-SNATed there; see the 105 flow
   * of the base pipeline); in table 60, a connection table 11 marked (first packet, by reg6; later ones, by ct_mark)
   * is SNATed to the node's first address of its family, the client's MAC kept in the entry's label for the replies.
   */
  static List<Flow> masqueradeFlows(List<String> nodeAddresses, int round) {
    Cookie cookie = Cookie.of(Cookie.Category.SERVICE, round, MASQUERADE_OBJECT);
    List<Flow> out = new ArrayList<>();
    for (boolean v6 : new boolean[] {false, true}) {
      List<byte[]> mine = distinct(nodeAddresses, v6, List.of());
      if (mine.isEmpty()) {
        continue;
      }
      for (byte[] raw : mine) {
        Match m = (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
            .masked(Field.CT_STATE, 0, PipelineProfile.CT_TRK)
            .put(new FieldValue(v6 ? Field.IPV6_DST : Field.IPV4_DST, new BigInteger(1, raw), null)).build();
        out.add(new Flow(PipelineProfile.CT_ZONE, 110, m, List.of(new Action.Ct(false, false,
            PipelineProfile.MASQUERADE_ZONE, null, 0, PipelineProfile.CT_ZONE, Action.Nat.reverse(), List.of())), cookie));
      }
      String source = text(mine.get(0));
      // no recirculation (the datapath applies the SNAT on output; table 90 reads only L2): the userspace datapath
      // allows 6 per packet, and the masquerade path already takes several
      // then forwarded as the node would route it: from the node's masquerade MAC, as if from LOCAL, so that NORMAL
      // may send it back out of the port it came in by (an endpoint on another node behind the same uplink) and no
      // bridge learns the client's MAC where it is not
      List<Action> routed = routedByNode(masqueradeMac(nodeAddresses));
      List<Action> snat = new ArrayList<>();
      snat.add(new Action.Ct(true, false, PipelineProfile.MASQUERADE_ZONE, null, 0, -1,
          new Action.Nat(Action.NatKind.SRC, source, null, PipelineProfile.MASQUERADE_PORT_MIN,
              PipelineProfile.MASQUERADE_PORT_MAX, false, false, false),
          List.of(new Action.Move(Field.ETH_SRC, 0, Field.CT_LABEL, 0, 48), new Action.Load(Field.CT_MARK, 3, 1, 1))));
      snat.addAll(routed);
      // its replies, un-SNATed and un-DNATed (table 10), the same way back to the client
      out.add(new Flow(PipelineProfile.CT_STATE, 202, (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(Field.CT_STATE, PipelineProfile.CT_EST | PipelineProfile.CT_RPL | PipelineProfile.CT_TRK,
              PipelineProfile.CT_EST | PipelineProfile.CT_RPL | PipelineProfile.CT_TRK)
          .masked(Field.CT_MARK, PipelineProfile.MASQUERADE, PipelineProfile.MASQUERADE).build(), routed, cookie));
      out.add(new Flow(PipelineProfile.SERVICE_MASQUERADE, 110, (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(PipelineProfile.MASQUERADE_REG, PipelineProfile.MASQUERADE_THIS, PipelineProfile.MASQUERADE_THIS)
          .build(), snat, cookie));
      out.add(new Flow(PipelineProfile.SERVICE_MASQUERADE, 100, (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(Field.CT_STATE, PipelineProfile.CT_TRK, PipelineProfile.CT_RPL | PipelineProfile.CT_TRK)
          .masked(Field.CT_MARK, PipelineProfile.MASQUERADE, PipelineProfile.MASQUERADE).build(), snat, cookie));
    }
    return out;
  }

  /**
   * The source MAC of what a node's switch masquerades, both ways: {@code 0e} (locally administered, unicast) and the
   * low 40 bits of the node's first address (IPv4 first), so each node has its own and none is a port's.
   */
  static long masqueradeMac(List<String> nodeAddresses) {
    List<byte[]> v4 = distinct(nodeAddresses, false, List.of());
    byte[] a = !v4.isEmpty() ? v4.get(0) : distinct(nodeAddresses, true, List.of()).get(0);
    long low = 0;
    for (int i = Math.max(0, a.length - 5); i < a.length; i++) {
      low = low << 8 | (a[i] & 0xff);
    }
    return 0x0e0000000000L | low;
  }

  /** Forwarding as the node would route: from its masquerade MAC, in_port LOCAL (so NORMAL may use the real one). */
  private static List<Action> routedByNode(long mac) {
    return List.of(new Action.SetField(FieldValue.exact(Field.ETH_SRC, mac)),
        new Action.SetField(FieldValue.exact(Field.IN_PORT, PipelineProfile.OFPP_LOCAL)),
        new Action.GotoTable(PipelineProfile.L2_FORWARDING));
  }

  private static String text(byte[] raw) {
    try {
      return java.net.InetAddress.getByAddress(raw).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Addresses of one family as bytes, each once, leaving out those in {@code except}. */
  private static List<byte[]> distinct(List<String> texts, boolean v6, List<byte[]> except) {
    List<byte[]> out = new ArrayList<>();
    for (String t : texts) {
      if (t.equals("None")) {
        continue;
      }
      byte[] raw = Addresses.parse(t);
      if ((raw.length == 16) == v6 && out.stream().noneMatch(o -> java.util.Arrays.equals(o, raw))
          && except.stream().noneMatch(o -> java.util.Arrays.equals(o, raw))) {
        out.add(raw);
      }
    }
    return out;
  }

  /** The meter that bounds how many refused first packets per second a switch sends to the controller. */
  public static final Meter REJECT_METER = new Meter(Meter.FIRST_OWNED, true, 100, 100);
  private static final Action REJECT_METER_ACTION = new Action.Meter(REJECT_METER.id());
  /**
   * The meter that bounds how many health-check packets per second a switch sends to the controller (its own, so a
   * flood of refused connections cannot starve a load balancer's probes, nor the other way round).
   */
  public static final Meter HEALTH_METER = new Meter(Meter.FIRST_OWNED + 1, true, 200, 200);
  private static final Action HEALTH_METER_ACTION = new Action.Meter(HEALTH_METER.id());
  /** Health-check packets reach the controller whole: the probe's HTTP request is in them. */
  public static final int HEALTH_MAX_LEN = 0xffff;
  /** The cookie object id of the health-check flows (table 10, priority 120). */
  public static final long HEALTH_OBJECT = 0xfffffdL;

  /** Bytes of a refused packet sent to the controller: enough for its headers (an IPv6 TCP SYN with options). */
  public static final int REJECT_MAX_LEN = 128;

  /**
   * Every address that stands for the Service: its cluster IPs, externalIPs and LoadBalancer ingress IPs (each
   * translated by the bridge where it enters from its sender).
   */
  static List<String> virtualAddressTexts(Service s) {
    List<String> out = new ArrayList<>(s.clusterIPs());
    out.addAll(s.externalIPs());
    out.addAll(s.loadBalancerIngressIPs());
    return out;
  }

  /** New connections (first packets) to a virtual address and port. */
  static Match vipMatch(byte[] vip, Protocol protocol, int port) {
    return portMatch(vip, protocol, port).masked(Field.CT_STATE, PipelineProfile.CT_NEW | PipelineProfile.CT_TRK,
        PipelineProfile.CT_NEW | PipelineProfile.CT_TRK).build();
  }

  /** Packets to a virtual address and port (any connection state). */
  private static Match.Builder portMatch(byte[] vip, Protocol protocol, int port) {
    boolean v6 = vip.length == 16;
    Match.Builder m = v6 ? Match.builder().ipv6() : Match.builder().ipv4();
    m.put(new FieldValue(v6 ? Field.IPV6_DST : Field.IPV4_DST, new BigInteger(1, vip), null));
    m.exact(Field.IP_PROTO, switch (protocol) {
      case TCP -> 6;
      case UDP -> 17;
      case SCTP -> 132;
    });
    m.exact(dstField(protocol), port);
    return m;
  }

  /** kube-proxy's default {@code sessionAffinityConfig.clientIP.timeoutSeconds} (3 hours). */
  static final int DEFAULT_AFFINITY_TIMEOUT = 10_800;
  /** OVS's idle_timeout is 16 bits: the longest affinity a learned flow can hold (Kubernetes allows up to 86400 s). */
  static final int MAX_AFFINITY_TIMEOUT = 0xffff;
  /** Priority of the learned flows in table 14 (all have the same shape, so it orders nothing). */
  static final int AFFINITY_PRIORITY = 200;

  /** The learned flows' idle timeout: the Service's, its default when unset, at most what OVS can hold. */
  static int affinityTimeout(Service s) {
    int t = s.sessionAffinityTimeoutSeconds();
    return t <= 0 ? DEFAULT_AFFINITY_TIMEOUT : Math.min(t, MAX_AFFINITY_TIMEOUT);
  }

  /**
   * The learn action of one endpoint's table-15 flow: a flow in table 14 for this client (source address), virtual
   * address, protocol and port that loads the endpoint (address, target port, the "chosen" bit) into the affinity
   * registers; learning it again on each later connection keeps the same flow. Its
   * idle timeout restarts with every new connection that finds it (only first packets look there), as kube-proxy's
   * {@code recent --rcheck --seconds T --reap} with {@code --set} does; the cookie's object id is the group's.
   */
  private static Action.Learn affinityLearn(Service.Port sp, boolean v6, Endpoints.Backend b, int timeout, long object) {
    List<Action.LearnSpec> specs = new ArrayList<>();
    specs.add(new Action.LearnSpec.MatchValue(Field.ETH_TYPE, v6 ? 0x86dd : 0x0800));
    specs.add(new Action.LearnSpec.MatchValue(Field.IP_PROTO, protocolNumber(sp.protocol())));
    specs.add(new Action.LearnSpec.MatchField(v6 ? Field.IPV6_SRC : Field.IPV4_SRC));
    specs.add(new Action.LearnSpec.MatchField(v6 ? Field.IPV6_DST : Field.IPV4_DST));
    specs.add(new Action.LearnSpec.MatchField(dstField(sp.protocol())));
    long[] words = addressWords(b.address());
    for (int i = 0; i < words.length; i++) {
      specs.add(new Action.LearnSpec.Load(PipelineProfile.AFFINITY_ADDRESS[i], 0, 32, words[i]));
    }
    specs.add(new Action.LearnSpec.Load(PipelineProfile.AFFINITY_PORT, 0, 17, PipelineProfile.AFFINITY_CHOSEN | b.port()));
    return new Action.Learn(PipelineProfile.SERVICE_AFFINITY, timeout, 0, AFFINITY_PRIORITY,
        Cookie.of(Cookie.Category.LEARNED, 0, object).value(), specs);
  }

  /**
   * An affinity bucket: the endpoint into the affinity registers (as a learned flow would load it), then table 15
   * again, where its flow learns and DNATs.
   */
  private static List<Action> affinityChoice(Endpoints.Backend b) {
    List<Action> out = new ArrayList<>();
    long[] words = addressWords(b.address());
    for (int i = 0; i < words.length; i++) {
      out.add(new Action.SetField(FieldValue.exact(PipelineProfile.AFFINITY_ADDRESS[i], words[i])));
    }
    out.add(new Action.Load(PipelineProfile.AFFINITY_PORT, 0, 17, PipelineProfile.AFFINITY_CHOSEN | b.port()));
    out.add(new Action.Resubmit(PipelineProfile.SERVICE_AFFINITY_ENDPOINT));
    return out;
  }

  /** Table 15: a new connection to the virtual address and port for which table 14 or the group chose this endpoint. */
  private static Match affinityMatch(byte[] vip, Protocol protocol, int port, Endpoints.Backend b) {
    Match.Builder m = portMatch(vip, protocol, port);
    long[] words = addressWords(b.address());
    for (int i = 0; i < words.length; i++) {
      m.exact(PipelineProfile.AFFINITY_ADDRESS[i], words[i]);
    }
    long chosen = PipelineProfile.AFFINITY_CHOSEN;
    return m.masked(PipelineProfile.AFFINITY_PORT, chosen | b.port(), chosen | 0xffff).build();
  }

  /** An address as 32-bit words, most significant first (1 for IPv4, 4 for IPv6). */
  private static long[] addressWords(byte[] address) {
    long[] out = new long[address.length / 4];
    for (int i = 0; i < out.length; i++) {
      out[i] = (address[4 * i] & 0xffL) << 24 | (address[4 * i + 1] & 0xff) << 16 | (address[4 * i + 2] & 0xff) << 8
          | (address[4 * i + 3] & 0xff);
    }
    return out;
  }

  private static int protocolNumber(Protocol p) {
    return switch (p) {
      case TCP -> 6;
      case UDP -> 17;
      case SCTP -> 132;
    };
  }

  private static Field srcField(Protocol p) {
    return switch (p) {
      case TCP -> Field.TCP_SRC;
      case UDP -> Field.UDP_SRC;
      case SCTP -> Field.SCTP_SRC;
    };
  }

  private static Field dstField(Protocol p) {
    return switch (p) {
      case TCP -> Field.TCP_DST;
      case UDP -> Field.UDP_DST;
      case SCTP -> Field.SCTP_DST;
    };
  }

  /**
   * A bucket: DNAT to the endpoint in the zone the packet was tracked in, marked unjudged, with the endpoint's MAC (when
   * Sluice knows it) in the connection's label for table 12 to put on every packet; on to table 12.
   */
  private static List<Action> bucketActions(Endpoints.Backend b, BigInteger mac) {
    Action.Nat nat = new Action.Nat(Action.NatKind.DST, b.text(), null, b.port(), 0, false, false, false);
    List<Action> exec = new ArrayList<>(2);
    exec.add(new Action.Load(Field.CT_MARK, 0, 1, PipelineProfile.UNJUDGED));
    if (mac != null) {
      exec.add(new Action.Load(Field.CT_LABEL, 0, 49, PipelineProfile.ENDPOINT_MAC_KNOWN | mac.longValue()));
    }
    return List.of(new Action.Ct(true, false, 0, Field.CT_ZONE, 0, PipelineProfile.SERVICE_ENDPOINT, nat, exec));
  }

  /** Cookie object id of the per-endpoint flows of table 12 (above every 24-bit group number). */
  static final long ENDPOINT_OBJECT = 0x0100_0000L;

  /** A pod's own connection to a Service that chose the pod itself: source and destination are its address. */
  static Match hairpinMatch(byte[] address) {
    boolean v6 = address.length == 16;
    Match.Builder m = v6 ? Match.builder().ipv6() : Match.builder().ipv4();
    m.masked(Field.CT_STATE, PipelineProfile.CT_NEW | PipelineProfile.CT_DNAT | PipelineProfile.CT_TRK,
        PipelineProfile.CT_NEW | PipelineProfile.CT_DNAT | PipelineProfile.CT_RPL | PipelineProfile.CT_TRK);
    BigInteger a = new BigInteger(1, address);
    m.put(new FieldValue(v6 ? Field.IPV6_SRC : Field.IPV4_SRC, a, null));
    m.put(new FieldValue(v6 ? Field.IPV6_DST : Field.IPV4_DST, a, null));
    return m.build();
  }

  /**
   * Hairpin, first packet: the frame goes back to the pod (from the hairpin MAC, to its own MAC); the connection is marked hairpin
   * and no longer unjudged (a pod's traffic to itself is never governed by policy), then SNATed to the hairpin source
   * address in the hairpin zone, so the pod does not see a packet from itself, and sent out of the port it came in on.
   */
  private static List<Action> hairpinActions(byte[] address) {
    boolean v6 = address.length == 16;
    String source = v6 ? PipelineProfile.HAIRPIN_SOURCE_V6 : PipelineProfile.HAIRPIN_SOURCE_V4;
    List<Action> out = new ArrayList<>(PipelineProfile.hairpinFrame());
    out.add(new Action.Ct(true, false, 0, Field.CT_ZONE, 0, -1, null,
        List.of(new Action.Load(Field.CT_MARK, 0, 2, PipelineProfile.HAIRPIN))));
    out.add(new Action.Ct(true, false, PipelineProfile.HAIRPIN_ZONE, null, 0, PipelineProfile.SERVICE_HAIRPIN,
        new Action.Nat(Action.NatKind.SRC, source, null, 0, 0, false, false, false), List.of()));
    return out;
  }

  /**
   * The endpoint pod's MAC (its port's attached-mac), when the endpoint names a pod Sluice knows with that address
   * and the pod's port is bound; else null (a pod whose port is still closed must not be reached by rewriting).
   */
  private static BigInteger macOf(Endpoints.Backend b, Snapshot snap) {
    if (b.endpoint().targetPod().isEmpty()) {
      return null;
    }
    ObjectRef ref = b.endpoint().targetPod().get();
    io.sluice.model.Pod pod = snap.pods().get(ref);
    PortBinding binding = snap.bindings().get(ref);
    if (pod == null || binding == null || pod.hostNetwork() || !pod.ips().contains(b.endpoint().addresses().get(0))) {
      return null;
    }
    return mac(binding.mac());
  }

  /** A MAC address's value, or null when the text (OVSDB's attached-mac) is not one. */
  private static BigInteger mac(String text) {
    if (text == null || text.length() != 17) {
      return null;
    }
    String hex = text.replace(":", "");
    if (hex.length() != 12 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      return null;
    }
    return new BigInteger(hex, 16);
  }
}
