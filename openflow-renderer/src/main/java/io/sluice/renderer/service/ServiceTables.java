package io.sluice.renderer.service;

import io.sluice.model.EndpointSlice;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.Protocol;
import io.sluice.model.Service;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.flow.NatBackend;
import io.sluice.renderer.flow.SharedTables;
import io.sluice.renderer.index.SelectorIndex;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every Service of one snapshot as flows and groups (see the package doc). Immutable. {@link #of} compiles a
 * snapshot; {@link #next} compiles a later one, reusing the compiled result of every Service whose object, slices,
 * endpoint bindings and group ids did not change, and returning this very object when no Service input changed.
 */
public final class ServiceTables {
  private final PipelineProfile profile;
  private final Snapshot snapshot;
  private final int round;
  private final Map<ObjectRef, Compiled> byService;
  private final List<Flow> flows;
  private final List<Group> groups;
  private final SharedTables shared;

  private ServiceTables(PipelineProfile profile, Snapshot snapshot, int round, Map<ObjectRef, Compiled> byService) {
    this.profile = profile;
    this.snapshot = snapshot;
    this.round = round;
    this.byService = byService;
    List<Flow> f = new ArrayList<>();
    List<Group> g = new ArrayList<>();
    Map<io.sluice.renderer.flow.FlowKey, Flow> mac = new java.util.LinkedHashMap<>();
    java.util.Set<NatBackend> nat = new java.util.HashSet<>();
    for (Compiled c : byService.values()) {
      f.addAll(c.flows());
      g.addAll(c.groups());
      nat.addAll(c.natBackends());
      for (Flow m : c.endpointFlows()) {
        mac.putIfAbsent(m.key(), m); // an endpoint of several Services: one flow
      }
    }
    f.addAll(mac.values());
    this.flows = Collections.unmodifiableList(f);
    this.groups = Collections.unmodifiableList(g);
    boolean rejects = f.stream().anyMatch(x -> x.actions().contains(REJECT_METER_ACTION));
    this.shared = SharedTables.of(f, g, rejects ? List.of(REJECT_METER) : List.of(), nat);
  }

  /** Compiles every Service of a snapshot; each flow is checked against the profile's table declarations. */
  public static ServiceTables of(PipelineProfile profile, Snapshot snapshot, int round) {
    return of(profile, SelectorIndex.of(snapshot), round);
  }

  /** Compiles every Service of the index's snapshot, reading each Service's EndpointSlices from the index. */
  public static ServiceTables of(PipelineProfile profile, SelectorIndex index, int round) {
    return compile(profile, index, round, null);
  }

  /** The tables of a later snapshot, reusing what did not change. */
  public ServiceTables next(Snapshot later) {
    return next(later == snapshot ? null : SelectorIndex.of(later), later);
  }

  /** The tables of the index's (later) snapshot, reusing what did not change. */
  public ServiceTables next(SelectorIndex later) {
    return next(later, later.snapshot());
  }

  private ServiceTables next(SelectorIndex index, Snapshot later) {
    if (later == snapshot || later.services() == snapshot.services() && later.endpointSlices() == snapshot.endpointSlices()
        && later.bindings() == snapshot.bindings()) {
      return later == snapshot ? this : new ServiceTables(profile, later, round, byService, flows, groups, shared);
    }
    return compile(profile, index, round, this);
  }

  private ServiceTables(PipelineProfile profile, Snapshot snapshot, int round, Map<ObjectRef, Compiled> byService,
                        List<Flow> flows, List<Group> groups, SharedTables shared) {
    this.profile = profile;
    this.snapshot = snapshot;
    this.round = round;
    this.byService = byService;
    this.flows = flows;
    this.groups = groups;
    this.shared = shared;
  }

  /** The flows and groups, keyed once, for every switch's {@link DesiredTables} to refer to. */
  public SharedTables shared() {
    return shared;
  }

  /** The snapshot these tables were compiled (or carried over) for. */
  public Snapshot snapshot() {
    return snapshot;
  }

  /** The ServiceLB flows of every switch (switch-independent). */
  public List<Flow> flows() {
    return flows;
  }

  /** The select groups those flows use. */
  public List<Group> groups() {
    return groups;
  }

  /** The UDP and SCTP backends the groups DNAT new connections to (every switch's; see {@link SharedTables}). */
  public java.util.Set<NatBackend> natBackends() {
    return shared.natBackends();
  }

  /** Whether this and {@code other} hold the very same compiled flows and groups (a re-render can be skipped). */
  public boolean sameAs(ServiceTables other) {
    return other != null && other.flows == flows && other.groups == groups;
  }

  // ------------------------------------------------------------------ compile

  /**
   * One Service's compiled part, and what it was compiled from; {@code natBackends}: the UDP and SCTP backends its
   * buckets DNAT to.
   */
  private record Compiled(Service service, List<EndpointSlice> slices, List<PortBinding> bindings, List<Long> groupIds,
                          List<Flow> flows, List<Group> groups, List<Flow> endpointFlows, List<NatBackend> natBackends) { }

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

  private static ServiceTables compile(PipelineProfile profile, SelectorIndex index, int round, ServiceTables previous) {
    Snapshot snap = index.snapshot();
    Map<ObjectRef, Compiled> before = previous == null ? Map.of() : previous.byService;
    // Group numbers: a hash of the Service port's name, probing on the rare collision in Service order.
    Map<ObjectRef, Service> services = new TreeMap<>(snap.services());
    Map<Long, GroupKey> used = new HashMap<>();
    Map<GroupKey, Long> ids = new HashMap<>();
    for (Service s : services.values()) {
      for (GroupKey k : groupKeys(s)) {
        long n = k.hash();
        while (used.putIfAbsent(n, k) != null) {
          n = (n + 1) & 0xff_ffffL;
        }
        ids.put(k, Group.ownedId(n));
      }
    }
    Map<ObjectRef, Compiled> out = new java.util.LinkedHashMap<>();
    boolean allKept = previous != null && before.size() == services.size();
    for (Service s : services.values()) {
      List<EndpointSlice> slices = index.endpointSlicesOf(s.ref());
      List<PortBinding> bindings = bindingsOf(snap, slices);
      List<Long> groupIds = groupKeys(s).stream().map(ids::get).toList();
      Compiled old = before.get(s.ref());
      if (old != null && old.service().equals(s) && sameElements(old.slices(), slices)
          && old.bindings().equals(bindings) && old.groupIds().equals(groupIds)) {
        out.put(s.ref(), old);
      } else {
        allKept = false;
        Compiled c = compile(s, slices, bindings, groupIds, snap, round);
        c.flows().forEach(profile::check);
        out.put(s.ref(), c);
      }
    }
    if (allKept) { // the same Services, each compiled as before: the same lists, so re-renders can be skipped
      return new ServiceTables(profile, snap, round, previous.byService, previous.flows, previous.groups, previous.shared);
    }
    return new ServiceTables(profile, snap, round, out);
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
