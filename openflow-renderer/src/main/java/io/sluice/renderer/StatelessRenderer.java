package io.sluice.renderer;

import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.Matches;
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import io.sluice.renderer.policy.Inputs;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.policy.StatelessPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The renderer for switches without conntrack: hardware profiles such as {@code openflow13-generic} (tables named
 * Classifier, Policy and Forwarding) and {@code openflow13-single-table} (one table). Standard OpenFlow 1.3 only:
 * matches on OXM fields, goto-table, output. NetworkPolicy takes its stateless form ({@link StatelessPolicy}); ARP and
 * IPv6 neighbour discovery are not governed (a copy goes to the controller for host tracking, and LLDP goes to it
 * for topology discovery; requests for a known endpoint's address go to the controller only, which answers them,
 * where the profile can match the target address); a packet policy lets through is forwarded to the local pod it is for
 * (its port, or its MAC in the Forwarding table), and otherwise flooded (until fabric forwarding knows the way).
 * Pure: no I/O.
 */
public final class StatelessRenderer {
  /** The reserved port ALL: every port but the one the packet came in on. */
  public static final long OFPP_ALL = 0xfffffffcL;
  static final int NEIGHBOUR = StatelessPolicy.NEIGHBOUR;
  /**
   * The cookie object id of this pipeline's base flows (category BASE): LLDP, ARP and neighbour discovery to the
   * controller carry it, so the controller's fabric discovery knows its packet-ins by it.
   */
  public static final long BASE_OBJECT = 0xfff0;
  /** LLDP (topology discovery), above everything. */
  public static final int LLDP = 1100;
  public static final int ETH_LLDP = 0x88cc;
  /** Send the whole packet (OFPCML_NO_BUFFER). */
  static final int WHOLE_PACKET = 0xffff;
  /** Bytes of an ARP or neighbour discovery packet host tracking reads: Ethernet, IPv6, ICMPv6 and one option. */
  public static final int HOST_TRACKING_LEN = 128;
  static final int KNOWN_MAC = 50;
  /** Off the spanning tree: what arrives on such a link and is for no known MAC is dropped, not flooded again. */
  static final int BLOCKED = 2;
  static final int FLOOD = 1;
  /**
   * The flood meter: 2,000 packets per second per switch (burst 500), ample for ARP, neighbour discovery and the odd
   * unknown unicast of a rack, far below what a loop would carry.
   */
  public static final io.sluice.renderer.flow.Meter FLOOD_METER = new io.sluice.renderer.flow.Meter(
      io.sluice.renderer.flow.Meter.FIRST_OWNED + 4, true, 2_000, 500);
  /** One table: broadcast and multicast off the spanning tree, dropped above everything that floods. */
  static final int BLOCKED_MULTICAST = 1050;
  /** One table and a fabric: neighbour discovery and ARP to a known MAC, and from a port off the spanning tree. */
  static final int NEIGHBOUR_KNOWN = 1060;
  static final int NEIGHBOUR_BLOCKED = 1040;
  static final long MULTICAST_BIT = 0x010000000000L;
  /**
   * Proxy ARP: a broadcast ARP request for a known endpoint's IPv4 address, from an edge port, goes to the controller
   * only (it answers with the endpoint's MAC), not flooded.
   */
  public static final int PROXY_ARP = 1020;
  /** Above proxy ARP: requests it must not take (from a link port, gratuitous, probes) keep the ARP flow's actions. */
  public static final int PROXY_ARP_EXEMPT = 1030;
  /** The cookie object id of the proxy ARP flows: the controller answers what they send it. */
  public static final long PROXY_OBJECT = 0xfff3;
  /** The fields the ARP flows' table must match for proxy ARP; without them ARP is flooded as before. */
  public static final java.util.Set<Field> PROXY_ARP_FIELDS = java.util.Set.of(Field.ETH_TYPE, Field.ARP_OP,
      Field.ARP_SPA, Field.ARP_TPA, Field.IN_PORT);
  /**
   * The fields the neighbour discovery flows' table must match for proxy ND; without them neighbour solicitations are
   * flooded as before.
   */
  public static final java.util.Set<Field> PROXY_ND_FIELDS = java.util.Set.of(Field.ETH_TYPE, Field.IP_PROTO,
      Field.ICMPV6_TYPE, Field.IPV6_ND_TARGET, Field.IPV6_SRC, Field.IN_PORT);
  /** At most this share of the ARP (or ND) flows' table's size goes to proxy ARP (or ND); the rest floods. */
  static final int PROXY_SHARE = 4;
  static final long BROADCAST = 0xffffffffffffL;

  private final PipelineProfile profile;
  private final int round;
  private final boolean legacyIsolation;
  private final Table classifier;
  private final Table policy;
  private final Table forwarding;

  public StatelessRenderer(PipelineProfile profile, int round, boolean legacyIsolation) {
    String why = unsupported(profile);
    if (why != null) {
      throw new IllegalArgumentException(why);
    }
    this.profile = profile;
    this.round = round;
    this.legacyIsolation = legacyIsolation;
    Map<String, Table> byName = byName(profile);
    if (profile.tables().size() == 1) {
      classifier = policy = forwarding = profile.tables().values().iterator().next();
    } else {
      classifier = byName.get("classifier");
      policy = byName.get("policy");
      forwarding = byName.get("forwarding");
    }
  }

  /**
   * Why this renderer cannot lay out a profile's tables, or null when it can: one table, or three named Classifier
   * (table 0), Policy and Forwarding, in that order.
   */
  public static String unsupported(PipelineProfile p) {
    if (p.tables().size() == 1) {
      return null;
    }
    Map<String, Table> t = byName(p);
    if (p.tables().size() == 3 && t.containsKey("classifier") && t.containsKey("policy") && t.containsKey("forwarding")
        && t.get("classifier").id() == 0 && t.get("classifier").id() < t.get("policy").id()
        && t.get("policy").id() < t.get("forwarding").id()) {
      return null;
    }
    return "profile " + p.name() + ": the stateless pipeline needs either one table or three named Classifier (table 0), "
        + "Policy and Forwarding, in that order; it declares " + p.tables().values().stream()
        .map(x -> x.id() + " " + x.name()).toList();
  }

  private static Map<String, Table> byName(PipelineProfile p) {
    Map<String, Table> out = new TreeMap<>();
    p.tables().values().forEach(x -> out.put(x.name().toLowerCase(Locale.ROOT), x));
    return out;
  }

  public PipelineProfile profile() {
    return profile;
  }

  public DesiredTables render(Snapshot snapshot, long dpid) {
    return render(PolicyIndex.of(snapshot), dpid);
  }

  /** One switch's tables; every flow is checked against the profile (a flow it cannot hold is an exception). */
  public DesiredTables render(PolicyIndex index, long dpid) {
    return render(index, dpid, false);
  }

  /**
   * One switch's tables, with its floods held or not. Held (the controller's hold-down, while topology discovery has
   * not yet found the switch's links): what would be flooded is dropped instead, so a broadcast cannot circle a loop
   * of links not yet known; forwarding to known endpoints, LLDP, the ARP and ND copies and proxy ARP/ND stay. The
   * same flows otherwise, so the release changes only the flood flows' actions.
   */
  public DesiredTables render(PolicyIndex index, long dpid, boolean holdFloods) {
    boolean single = classifier == forwarding;
    boolean tcpFlags = policy.matchFields().contains(Field.TCP_FLAGS);
    List<StatelessPolicy.Decision> decisions = StatelessPolicy.compile(index, dpid, round, legacyIsolation, new Inputs(),
        tcpFlags);
    List<Flow> out = new ArrayList<>(profile.missFlows(round));
    Cookie base = Cookie.of(Cookie.Category.BASE, round, BASE_OBJECT);
    // where the profile has meters, floods go through one: a loop the switch floods around before Sluice knows its
    // links (start-up, a new leader) circles at most this fast, and the LLDP that finds the links gets through
    boolean metered = profile.capabilities().meters();
    List<Action> flood = holdFloods ? List.of()
        : metered ? List.of(new Action.Meter(FLOOD_METER.id()), new Action.Output(OFPP_ALL))
        : List.of(new Action.Output(OFPP_ALL));
    List<Action> forward = single ? flood : List.of(new Action.GotoTable(forwarding.id()));
    // LLDP goes to the controller whole (topology discovery) and no further
    out.add(new Flow(classifier.id(), LLDP, Match.builder().exact(Field.ETH_TYPE, ETH_LLDP).build(),
        List.of(new Action.Controller(WHOLE_PACKET)), base));
    io.sluice.renderer.fabric.FabricForwarding fabric = io.sluice.renderer.fabric.FabricForwarding.of(index.snapshot(), dpid,
        profile.capabilities());
    Cookie fabricCookie = Cookie.of(Cookie.Category.BASE, round, 0xfff2);
    // a known endpoint's MAC: towards it (out of its port here, or along the fabric's shortest paths)
    Map<Match, List<Action>> known = new LinkedHashMap<>();
    for (io.sluice.renderer.fabric.FabricForwarding.Endpoint e : fabric.endpoints().values()) {
      List<Action> towards = fabric.towards(e);
      if (!towards.isEmpty()) {
        known.put(Match.builder().exact(Field.ETH_DST, Long.parseLong(e.mac().replace(":", ""), 16)).build(), towards);
      }
    }
    boolean singleFabric = single && fabric.hasLinks();
    // not governed by NetworkPolicy: ARP and IPv6 neighbour discovery, forwarded, and a copy of ARP and of neighbour
    // solicitations and advertisements to the controller (host tracking)
    List<Match> neighbour = new ArrayList<>();
    List<Boolean> copied = new ArrayList<>();
    neighbour.add(Match.builder().arp().build());
    copied.add(true);
    for (int type = 133; type <= 137; type++) {
      neighbour.add(Match.builder().ipv6().exact(Field.IP_PROTO, 58).exact(Field.ICMPV6_TYPE, type).build());
      copied.add(type == 135 || type == 136);
    }
    for (int i = 0; i < neighbour.size(); i++) {
      Match m = neighbour.get(i);
      int table = i == 0 ? classifier.id() : policy.id();
      List<Action> copy = copied.get(i) ? List.of(new Action.Controller(HOST_TRACKING_LEN)) : List.of();
      out.add(new Flow(table, NEIGHBOUR, m, concat(copy, forward), base));
      if (singleFabric) {
        // one table and a fabric: a neighbour packet is forwarded as anything else is (to a known MAC along its path,
        // dropped where it arrives off the spanning tree, else flooded), or a unicast reply would circle the loops
        for (Map.Entry<Match, List<Action>> k : known.entrySet()) {
          out.add(new Flow(table, NEIGHBOUR_KNOWN, Matches.intersect(m, k.getKey()), concat(copy, k.getValue()),
              fabricCookie));
        }
        for (long port : fabric.blockedFloodPorts()) {
          out.add(new Flow(table, NEIGHBOUR_BLOCKED, Matches.intersect(m, Match.builder().exact(Field.IN_PORT, port)
              .build()), List.of(), fabricCookie));
        }
      }
    }
    out.addAll(proxyArp(index.snapshot(), fabric, concat(List.of(new Action.Controller(HOST_TRACKING_LEN)), forward),
        metered, base));
    out.addAll(proxyNd(index.snapshot(), fabric, concat(List.of(new Action.Controller(HOST_TRACKING_LEN)), forward),
        metered, base));
    if (singleFabric) {
      // broadcast and multicast arriving on a link outside the spanning tree: dropped before anything floods them
      for (long port : fabric.blockedFloodPorts()) {
        out.add(new Flow(classifier.id(), BLOCKED_MULTICAST, Match.builder().exact(Field.IN_PORT, port)
            .masked(Field.ETH_DST, MULTICAST_BIT, MULTICAST_BIT).build(), List.of(), fabricCookie));
      }
    }
    for (StatelessPolicy.Decision d : decisions) {
      List<Action> actions = !d.allow() ? List.of()
          : !single ? forward : d.hairpin() ? List.<Action>of(new Action.InPort())
          : d.destinationPort() >= 0 ? List.<Action>of(new Action.Output(d.destinationPort()))
          : holdFloods ? List.<Action>of() : List.<Action>of(new Action.Output(OFPP_ALL));
      out.add(new Flow(policy.id(), d.priority(), d.match(), actions, d.cookie()));
      if (single && d.allow() && d.destinationPort() < 0 && fabric.hasLinks()) {
        // one table: an allow towards anywhere else goes where its MAC is (one priority up), or floods
        for (Map.Entry<Match, List<Action>> k : known.entrySet()) {
          Match m = Matches.intersect(d.match(), k.getKey());
          if (m != null) {
            out.add(new Flow(policy.id(), d.priority() + 1, m, k.getValue(), d.cookie()));
          }
        }
      }
    }
    // forwarding: known MACs towards their endpoint; floods dropped where they arrive off the spanning tree, the rest
    // flooded
    known.forEach((m, a) -> out.add(new Flow(forwarding.id(), KNOWN_MAC, m, a, fabricCookie)));
    for (long port : fabric.blockedFloodPorts()) {
      out.add(new Flow(forwarding.id(), BLOCKED, Match.builder().exact(Field.IN_PORT, port).build(), List.of(),
          fabricCookie));
    }
    out.add(new Flow(forwarding.id(), FLOOD, Match.ALL, flood, base));
    out.forEach(profile::check);
    return DesiredTables.of(dpid, index.snapshot().generation(), out, fabric.groups(),
        metered ? List.of(FLOOD_METER) : List.of());
  }

  /**
   * Proxy ARP (issue 12), where the ARP flows' table can match {@link #PROXY_ARP_FIELDS}: a broadcast request
   * ({@code arp_op=1}) for a known endpoint's address goes to the controller only, through the flood meter where the
   * profile has meters (it would have been flooded through it), and is answered there. Requests that arrive on a link
   * (the edge switch they entered by answers them), gratuitous ones (sender and target the same address: they tell
   * the others, nobody is asked) and probes (sender 0.0.0.0, RFC 5227: answering one would tell a host its own address
   * is taken) keep the ARP flow's actions, one priority up. At most {@link #PROXY_SHARE} of the table goes to this; the
   * addresses beyond are flooded as before. Empty when the table cannot match the fields.
   */
  private List<Flow> proxyArp(Snapshot snapshot, io.sluice.renderer.fabric.FabricForwarding fabric,
                              List<Action> arpActions, boolean metered, Cookie base) {
    if (!classifier.matchFields().containsAll(PROXY_ARP_FIELDS)) {
      return List.of();
    }
    Map<Long, String> targets = io.sluice.renderer.fabric.NeighbourProxy.ipv4Targets(snapshot);
    if (targets.isEmpty()) {
      return List.of();
    }
    boolean broadcastOnly = classifier.matchFields().contains(Field.ETH_DST);
    Cookie proxy = Cookie.of(Cookie.Category.BASE, round, PROXY_OBJECT);
    List<Action> toController = toController(metered);
    List<Flow> out = new ArrayList<>();
    exemptLinkPorts(out, classifier, () -> Match.builder().arp(), fabric, arpActions, base);
    out.add(new Flow(classifier.id(), PROXY_ARP_EXEMPT, Match.builder().arp().exact(Field.ARP_OP, 1)
        .exact(Field.ARP_SPA, 0).build(), arpActions, base));
    long room = room(classifier, 2);
    for (Map.Entry<Long, String> t : targets.entrySet()) {
      if (room-- <= 0) {
        break;
      }
      Match.Builder request = Match.builder().arp();
      if (broadcastOnly) {
        request.exact(Field.ETH_DST, BROADCAST);
      }
      out.add(new Flow(classifier.id(), PROXY_ARP, request.exact(Field.ARP_OP, 1).exact(Field.ARP_TPA, t.getKey())
          .build(), toController, proxy));
      out.add(new Flow(classifier.id(), PROXY_ARP_EXEMPT, Match.builder().arp().exact(Field.ARP_OP, 1)
          .exact(Field.ARP_SPA, t.getKey()).exact(Field.ARP_TPA, t.getKey()).build(), arpActions, base));
    }
    return out;
  }

  /**
   * Proxy ND, as proxy ARP above, where the neighbour discovery flows' table (Policy, or the only table) can match
   * {@link #PROXY_ND_FIELDS}: a neighbour solicitation for a known endpoint's IPv6 address goes to the controller
   * only (to a multicast MAC, where the table can match {@code dl_dst}: the solicited-node address), which answers
   * with a neighbour advertisement. Solicitations over a link, and those for duplicate address detection (source
   * {@code ::}: a proxy answer would tell the host its own address is taken), keep the flow's actions one priority up.
   */
  private List<Flow> proxyNd(Snapshot snapshot, io.sluice.renderer.fabric.FabricForwarding fabric,
                             List<Action> ndActions, boolean metered, Cookie base) {
    if (!policy.matchFields().containsAll(PROXY_ND_FIELDS)) {
      return List.of();
    }
    Map<java.math.BigInteger, String> targets = io.sluice.renderer.fabric.NeighbourProxy.ipv6Targets(snapshot);
    if (targets.isEmpty()) {
      return List.of();
    }
    boolean multicastOnly = policy.matchFields().contains(Field.ETH_DST);
    Cookie proxy = Cookie.of(Cookie.Category.BASE, round, PROXY_OBJECT);
    List<Action> toController = toController(metered);
    List<Flow> out = new ArrayList<>();
    exemptLinkPorts(out, policy, StatelessRenderer::solicitation, fabric, ndActions, base);
    out.add(new Flow(policy.id(), PROXY_ARP_EXEMPT, solicitation().put(new io.sluice.renderer.flow.FieldValue(
        Field.IPV6_SRC, java.math.BigInteger.ZERO, null)).build(), ndActions, base));
    long room = room(policy, 1);
    for (Map.Entry<java.math.BigInteger, String> t : targets.entrySet()) {
      if (room-- <= 0) {
        break;
      }
      Match.Builder request = solicitation();
      if (multicastOnly) {
        request.masked(Field.ETH_DST, MULTICAST_BIT, MULTICAST_BIT);
      }
      out.add(new Flow(policy.id(), PROXY_ARP, request.put(new io.sluice.renderer.flow.FieldValue(Field.IPV6_ND_TARGET,
          t.getKey(), null)).build(), toController, proxy));
    }
    return out;
  }

  private static Match.Builder solicitation() {
    return Match.builder().ipv6().exact(Field.IP_PROTO, 58).exact(Field.ICMPV6_TYPE, 135);
  }

  /** Where proxying sends a request: to the controller only, through the flood meter where there are meters. */
  private static List<Action> toController(boolean metered) {
    return metered ? List.of(new Action.Meter(FLOOD_METER.id()), new Action.Controller(HOST_TRACKING_LEN))
        : List.of(new Action.Controller(HOST_TRACKING_LEN));
  }

  /**
   * Requests that came over a link were let in by the edge switch they entered at: they keep {@code actions} (one
   * priority above proxying), on every link port, or on one table only on those of the spanning tree (the others drop
   * them above).
   */
  private void exemptLinkPorts(List<Flow> out, Table table, java.util.function.Supplier<Match.Builder> request,
                               io.sluice.renderer.fabric.FabricForwarding fabric, List<Action> actions, Cookie base) {
    java.util.Set<Long> ports = new java.util.TreeSet<>(fabric.treePorts());
    if (classifier != forwarding) {
      ports.addAll(fabric.blockedFloodPorts());
    }
    for (long port : ports) {
      out.add(new Flow(table.id(), PROXY_ARP_EXEMPT, request.get().exact(Field.IN_PORT, port).build(), actions, base));
    }
  }

  /** How many addresses proxying may take in a table, at {@code flowsEach} flows per address. */
  private static long room(Table t, int flowsEach) {
    return t.size() == Table.UNLIMITED ? Long.MAX_VALUE : t.size() / PROXY_SHARE / flowsEach;
  }

  private static List<Action> concat(List<Action> a, List<Action> b) {
    List<Action> out = new ArrayList<>(a.size() + b.size());
    out.addAll(a);
    out.addAll(b);
    return out;
  }
}
