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
                       SharedTables shared) {
    static final State EMPTY = new State(PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty(),
        PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty(), PersistentMap.empty(),
        PersistentMap.empty(), 0, SharedTables.EMPTY);
  }

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
        && snap.bindings() == snapshot.bindings()) {
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
    return complete && dirty.size() <= DIFF_LIMIT ? dirty : null;
  }

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
    return other != null && other.state.shared() == state.shared();
  }

  // ------------------------------------------------------------------ compile

  /**
   * One Service's compiled part, and what it was compiled from; {@code natBackends}: the UDP and SCTP backends its
   * buckets DNAT to.
   */
  private record Compiled(Service service, List<EndpointSlice> slices, List<PortBinding> bindings, List<Long> groupIds,
                          List<Flow> flows, List<Group> groups, List<Flow> endpointFlows, List<NatBackend> natBackends) {
    /** Whether this compiles to the same flows, groups and backends as {@code o}. */
    boolean sameOutput(Compiled o) {
      return flows.equals(o.flows) && groups.equals(o.groups) && endpointFlows.equals(o.endpointFlows)
          && natBackends.equals(o.natBackends);
    }

    boolean rejects() {
      return flows.stream().anyMatch(x -> x.actions().contains(REJECT_METER_ACTION));
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

  /** A Service port in one address family: one group. */
  private record GroupKey(ObjectRef service, String port, Protocol protocol, boolean v6) {
    long hash() {
      long h = 0xcbf29ce484222325L;
      for (String s : new String[] {service.toString(), "|", port, "|", protocol.name(), v6 ? "|6" : "|4"}) {
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
    Staged<GroupKey, Long> ids = new Staged<>(st.ids(), bulk);
    Staged<Long, GroupKey> used = new Staged<>(st.used(), bulk);
    // group numbers: release those of ports that are gone, then give new ports theirs, in Service order
    for (ObjectRef ref : order) {
      Compiled old = st.byService().get(ref);
      Service now = snap.services().get(ref);
      List<GroupKey> keep = now == null ? List.of() : groupKeys(now);
      for (GroupKey k : old == null ? List.<GroupKey>of() : groupKeys(old.service())) {
        Long id = ids.get(k);
        if (id != null && !keep.contains(k)) {
          ids.without(k);
          used.without(id & 0xff_ffffL);
        }
      }
    }
    for (ObjectRef ref : order) {
      Service now = snap.services().get(ref);
      for (GroupKey k : now == null ? List.<GroupKey>of() : groupKeys(now)) {
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
    for (ObjectRef ref : order) {
      Compiled old = byService.get(ref);
      Service s = snap.services().get(ref);
      Compiled c = null;
      if (s != null) {
        List<EndpointSlice> slices = index.endpointSlicesOf(ref);
        List<PortBinding> bindings = bindingsOf(snap, slices);
        List<Long> groupIds = groupKeys(s).stream().map(ids::get).toList();
        if (old != null && old.service().equals(s) && sameElements(old.slices(), slices)
            && old.bindings().equals(bindings) && old.groupIds().equals(groupIds)) {
          continue;
        }
        c = compile(s, slices, bindings, groupIds, snap, round);
        c.flows().forEach(profile::check);
        c.endpointFlows().forEach(profile::check);
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
    }
    if (gone.isEmpty() && added.isEmpty()) {
      return !byService.changed() && !ids.changed() ? st : new State(byService.result(), ids.result(), used.result(),
          byPod.result(), st.flows(), st.endpointRefs(), st.groups(), st.natRefs(), st.rejecting(), st.shared());
    }
    Staged<FlowKey, Flow> flows = new Staged<>(st.flows(), bulk);
    Staged<FlowKey, Integer> endpointRefs = new Staged<>(st.endpointRefs(), bulk);
    Staged<Long, Group> groups = new Staged<>(st.groups(), bulk);
    Staged<NatBackend, Integer> natRefs = new Staged<>(st.natRefs(), bulk);
    int rejecting = st.rejecting();
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
    }
    PersistentMap<NatBackend, Integer> natNow = natRefs.result();
    Set<NatBackend> nat = natNow == st.natRefs() ? st.shared().natBackends()
        : Collections.unmodifiableSet(new TreeSet<>(natNow.keySet()));
    SharedTables shared = SharedTables.keyed(flows.result(), groups.result(),
        rejecting > 0 ? Map.of(REJECT_METER.id(), REJECT_METER) : Map.of(), nat, newFlows, newGroups);
    return new State(byService.result(), ids.result(), used.result(), byPod.result(), flows.result(),
        endpointRefs.result(), groups.result(), natNow, rejecting, shared);
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

  private static List<GroupKey> groupKeys(Service s) {
    if (!balanced(s)) {
      return List.of();
    }
    List<GroupKey> keys = new ArrayList<>();
    for (boolean v6 : families(s)) {
      for (Service.Port p : s.ports()) {
        keys.add(new GroupKey(s.ref(), p.name(), p.protocol(), v6));
      }
    }
    return keys;
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

  private static Compiled compile(Service s, List<EndpointSlice> slices, List<PortBinding> bindings,
                                  List<Long> groupIds, Snapshot snap, int round) {
    List<Flow> flows = new ArrayList<>();
    List<Group> groups = new ArrayList<>();
    List<Flow> endpointFlows = new ArrayList<>();
    List<NatBackend> natBackends = new ArrayList<>();
    if (!balanced(s)) {
      return new Compiled(s, slices, bindings, groupIds, List.of(), List.of(), List.of(), List.of());
    }
    int k = 0;
    for (boolean v6 : families(s)) {
      for (Service.Port sp : s.ports()) {
        long gid = groupIds.get(k++);
        List<Endpoints.Backend> backends = Endpoints.of(sp, v6, slices);
        Cookie cookie = Cookie.of(Cookie.Category.SERVICE, round, gid & 0xff_ffffL);
        if (backends.isEmpty()) {
          // no usable endpoint: the controller refuses the client (TCP RST, ICMP unreachable), metered
          for (byte[] raw : virtualAddresses(s, v6)) {
            flows.add(new Flow(PipelineProfile.SERVICE_LB, 200, vipMatch(raw, sp),
                List.of(REJECT_METER_ACTION, new Action.Controller(REJECT_MAX_LEN)), cookie));
          }
          continue;
        }
        List<Group.Bucket> buckets = new ArrayList<>(backends.size());
        for (Endpoints.Backend b : backends) {
          buckets.add(new Group.Bucket(100, bucketActions(b, macOf(b, snap))));
          endpointFlows.add(new Flow(PipelineProfile.SERVICE_ENDPOINT, 110, hairpinMatch(b.address()),
              hairpinActions(b.address()), Cookie.of(Cookie.Category.SERVICE, round, ENDPOINT_OBJECT)));
          if (sp.protocol() != Protocol.TCP) { // UDP, SCTP: sync clears their entries when they stop being a backend
            int proto = sp.protocol() == Protocol.UDP ? NatBackend.UDP : NatBackend.SCTP;
            natBackends.add(NatBackend.of(b.address(), b.port(), proto));
          }
        }
        groups.add(new Group(gid, Group.Type.SELECT, buckets));
        for (byte[] raw : virtualAddresses(s, v6)) {
          flows.add(new Flow(PipelineProfile.SERVICE_LB, 200, vipMatch(raw, sp), List.of(new Action.Group(gid)), cookie));
        }
      }
    }
    return new Compiled(s, slices, bindings, groupIds, List.copyOf(flows), List.copyOf(groups), List.copyOf(endpointFlows),
        List.copyOf(natBackends));
  }

  /** The meter that bounds how many refused first packets per second a switch sends to the controller. */
  public static final Meter REJECT_METER = new Meter(Meter.FIRST_OWNED, true, 100, 100);
  private static final Action REJECT_METER_ACTION = new Action.Meter(REJECT_METER.id());
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

  /** The Service's virtual addresses of one family, each once. */
  private static List<byte[]> virtualAddresses(Service s, boolean v6) {
    List<byte[]> out = new ArrayList<>();
    for (String vip : virtualAddressTexts(s)) {
      byte[] raw = Addresses.parse(vip);
      if ((raw.length == 16) == v6 && out.stream().noneMatch(o -> java.util.Arrays.equals(o, raw))) {
        out.add(raw);
      }
    }
    return out;
  }

  /** New connections (first packets) to a virtual address and port. */
  static Match vipMatch(byte[] vip, Service.Port sp) {
    boolean v6 = vip.length == 16;
    Match.Builder m = v6 ? Match.builder().ipv6() : Match.builder().ipv4();
    m.masked(Field.CT_STATE, PipelineProfile.CT_NEW | PipelineProfile.CT_TRK, PipelineProfile.CT_NEW | PipelineProfile.CT_TRK);
    m.put(new FieldValue(v6 ? Field.IPV6_DST : Field.IPV4_DST, new BigInteger(1, vip), null));
    m.exact(Field.IP_PROTO, switch (sp.protocol()) {
      case TCP -> 6;
      case UDP -> 17;
      case SCTP -> 132;
    });
    m.exact(switch (sp.protocol()) {
      case TCP -> Field.TCP_DST;
      case UDP -> Field.UDP_DST;
      case SCTP -> Field.SCTP_DST;
    }, sp.port());
    return m.build();
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
