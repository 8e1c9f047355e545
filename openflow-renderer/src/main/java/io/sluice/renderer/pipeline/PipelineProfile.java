package io.sluice.renderer.pipeline;

import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A pipeline profile: the tables a kind of switch gets, as data. The renderer checks every flow against the
 * declaration, so a flow matching an undeclared field or jumping to an undeclared table fails in tests, not on a
 * switch. See docs/pipeline.md for the tables, table by table.
 */
public final class PipelineProfile {
  /** Table ids of the {@code ovs} profile (docs/pipeline.md describes each). */
  public static final int CLASSIFIER = 0;
  public static final int CT_ZONE = 10;
  public static final int SERVICE_LB = 11;
  public static final int SERVICE_ENDPOINT = 12;
  public static final int SERVICE_HAIRPIN = 13;
  public static final int CT_STATE = 20;
  public static final int EGRESS_RULE = 30;
  public static final int INGRESS_RULE = 40;
  public static final int CT_COMMIT = 50;
  public static final int L2_FORWARDING = 90;

  private final String name;
  private final Map<Integer, Table> tables = new TreeMap<>();

  /** Per table id (0-254), the fields its flows may match as a {@link Field#bit} set. */
  private final long[] allowedBits = new long[256];
  private final Table[] byId = new Table[256];

  private PipelineProfile(String name, List<Table> tables) {
    this.name = name;
    for (Table t : tables) {
      if (this.tables.put(t.id(), t) != null) {
        throw new IllegalArgumentException("table " + t.id() + " declared twice in profile " + name);
      }
      allowedBits[t.id()] = t.matchFieldBits();
      byId[t.id()] = t;
    }
  }

  /** The default profile for Open vSwitch bridges. */
  public static PipelineProfile ovs() {
    return new PipelineProfile("ovs", List.of(
        new Table(CLASSIFIER, "Classifier", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE, Field.IP_PROTO,
            Field.ICMPV6_TYPE, Field.IPV4_SRC, Field.IPV6_SRC), CT_ZONE),
        new Table(CT_ZONE, "ConntrackZone", EnumSet.of(Field.ETH_TYPE, Field.IPV4_DST, Field.IPV6_DST), L2_FORWARDING),
        new Table(SERVICE_LB, "ServiceLB", EnumSet.of(Field.CT_STATE, Field.ETH_TYPE, Field.IP_PROTO, Field.IPV4_DST,
            Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST), SERVICE_ENDPOINT),
        new Table(SERVICE_ENDPOINT, "ServiceEndpoint", EnumSet.of(Field.CT_STATE, Field.CT_MARK, Field.ETH_TYPE,
            Field.IPV4_SRC, Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST), CT_STATE),
        new Table(SERVICE_HAIRPIN, "ServiceHairpin", EnumSet.of(Field.ETH_TYPE), Table.MISS_DROP),
        new Table(CT_STATE, "ConntrackState", EnumSet.of(Field.CT_STATE, Field.CT_MARK, Field.IN_PORT, Field.ETH_TYPE),
            EGRESS_RULE),
        new Table(EGRESS_RULE, "EgressRule", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE, Field.IP_PROTO,
            Field.IPV4_DST, Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST, Field.CONJ_ID), INGRESS_RULE),
        new Table(INGRESS_RULE, "IngressRule", EnumSet.of(Field.ETH_TYPE, Field.IP_PROTO, Field.IPV4_SRC,
            Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST, Field.CONJ_ID),
            CT_COMMIT),
        new Table(CT_COMMIT, "ConntrackCommit", EnumSet.of(Field.ETH_TYPE, Field.CT_MARK), L2_FORWARDING),
        new Table(L2_FORWARDING, "L2Forwarding", EnumSet.allOf(Field.class), Table.MISS_NORMAL)));
  }

  public String name() {
    return name;
  }

  public Map<Integer, Table> tables() {
    return java.util.Collections.unmodifiableMap(tables);
  }

  /**
   * The conntrack zone of one switch. Every bridge of an ovs-vswitchd shares one conntrack table, so bridges a packet
   * crosses in turn must not share a zone: the zone follows the datapath id (1..65521).
   */
  public static int zone(long dpid) {
    return (int) Long.remainderUnsigned(dpid, 65521) + 1;
  }

  /**
   * The flows every switch of this profile has before any policy: table-miss flows, ARP and IPv6 neighbour discovery
   * straight to forwarding (not governed by policy), conntrack lookup and commit in the switch's zone, established and
   * related traffic accepted early, invalid dropped, connections the node itself (LOCAL) opens accepted.
   */
  public List<Flow> baseFlows(long dpid, int round) {
    List<Flow> out = missFlows(round);
    int zone = zone(dpid);
    Cookie c = Cookie.of(Cookie.Category.BASE, round, 0xffff);
    out.add(new Flow(CLASSIFIER, 200, Match.builder().arp().build(), List.of(new Action.GotoTable(L2_FORWARDING)), c));
    for (int type = 133; type <= 137; type++) {
      out.add(new Flow(CLASSIFIER, 200, Match.builder().ipv6().exact(Field.IP_PROTO, 58).exact(Field.ICMPV6_TYPE, type).build(),
          List.of(new Action.GotoTable(L2_FORWARDING)), c));
    }
    Action.Load judged = new Action.Load(Field.CT_MARK, 0, 1, 0);
    for (boolean v6 : new boolean[] {false, true}) {
      Match ip = v6 ? Match.builder().ipv6().build() : Match.builder().ipv4().build();
      // the lookup applies the NAT a Service recorded for the connection (replies un-NATed), then Services
      out.add(new Flow(CT_ZONE, 100, ip, List.of(new Action.Ct(false, false, zone, null, 0, SERVICE_LB,
          Action.Nat.reverse(), List.of())), c));
      out.add(new Flow(CT_COMMIT, 100, ip, List.of(Action.Ct.commit(zone), new Action.GotoTable(L2_FORWARDING)), c));
      // hairpin replies: un-SNAT in the hairpin zone first, then the lookup above (un-DNAT) on the recirculation
      Match toHairpin = v6 ? Match.builder().ipv6().put(new FieldValue(Field.IPV6_DST, addr(HAIRPIN_SOURCE_V6), null)).build()
          : Match.builder().ipv4().put(new FieldValue(Field.IPV4_DST, addr(HAIRPIN_SOURCE_V4), null)).build();
      out.add(new Flow(CT_ZONE, 110, toHairpin, List.of(new Action.Ct(false, false, HAIRPIN_ZONE, null, 0, CT_ZONE,
          Action.Nat.reverse(), List.of())), c));
      out.add(new Flow(SERVICE_HAIRPIN, 100, ip, List.of(new Action.InPort()), c));
      // a Service-translated connection that policy allowed: commit clears the "unjudged" mark
      Match unjudged = (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(Field.CT_MARK, UNJUDGED, UNJUDGED).build();
      out.add(new Flow(CT_COMMIT, 110, unjudged, List.of(new Action.Ct(true, false, zone, null, 0, -1, null,
          List.of(judged)), new Action.GotoTable(L2_FORWARDING)), c));
    }
    // hairpin replies (un-DNATed: from the virtual address to the pod): back to the pod, from the hairpin MAC
    out.add(new Flow(SERVICE_ENDPOINT, 120, Match.builder().masked(Field.CT_STATE, CT_RPL | CT_TRK, CT_RPL | CT_TRK)
        .masked(Field.CT_MARK, HAIRPIN, HAIRPIN).build(), List.of(new Action.Move(Field.ETH_SRC, 0, Field.ETH_DST, 0, 48),
        new Action.SetField(FieldValue.exact(Field.ETH_SRC, HAIRPIN_MAC)), new Action.InPort()), c));
    out.add(new Flow(CT_STATE, 210, ctState(CT_INV | CT_TRK, CT_INV | CT_TRK), List.of(), c));
    // A translated connection whose first packet policy never allowed: its replies are dropped (an endpoint must not
    // open a path a policy closed by answering), and later packets of its client are judged again.
    out.add(new Flow(CT_STATE, 206, Match.builder().masked(Field.CT_STATE, CT_RPL | CT_TRK, CT_RPL | CT_TRK)
        .masked(Field.CT_MARK, UNJUDGED, UNJUDGED).build(), List.of(), c));
    out.add(new Flow(CT_STATE, 205, Match.builder().masked(Field.CT_STATE, CT_TRK, CT_NEW | CT_TRK)
        .masked(Field.CT_MARK, UNJUDGED, UNJUDGED).build(), List.of(new Action.GotoTable(EGRESS_RULE)), c));
    out.add(new Flow(CT_STATE, 200, ctState(CT_EST | CT_TRK, CT_EST | CT_TRK), List.of(new Action.GotoTable(L2_FORWARDING)), c));
    out.add(new Flow(CT_STATE, 200, ctState(CT_REL | CT_TRK, CT_REL | CT_TRK), List.of(new Action.GotoTable(L2_FORWARDING)), c));
    out.add(new Flow(CT_STATE, 190, Match.builder().masked(Field.CT_STATE, CT_NEW | CT_TRK, CT_NEW | CT_TRK)
        .exact(Field.IN_PORT, 0xfffffffeL).build(), List.of(new Action.GotoTable(CT_COMMIT)), c));
    return out;
  }

  public static final int CT_NEW = 0x01;
  public static final int CT_EST = 0x02;
  public static final int CT_REL = 0x04;
  public static final int CT_RPL = 0x08;
  public static final int CT_INV = 0x10;
  public static final int CT_DNAT = 0x80;
  /** ct_mark bit 0: DNATed by a Service, not yet allowed by NetworkPolicy (renderer.service sets it). */
  public static final long UNJUDGED = 0x1;
  /** ct_mark bit 1: a pod reaching itself through a Service (hairpin), SNATed in {@link #HAIRPIN_ZONE}. */
  public static final long HAIRPIN = 0x2;
  /**
   * The conntrack zone of hairpin SNAT, the same on every bridge: outside every switch's own zone (1..65521), and
   * hairpin traffic never leaves its bridge (it goes back out of the port it came in on), with pod addresses unique.
   */
  public static final int HAIRPIN_ZONE = 65534;
  /** The source address a pod sees on its own connections through a Service (so it does not see itself). */
  public static final String HAIRPIN_SOURCE_V4 = "169.254.0.253";
  public static final String HAIRPIN_SOURCE_V6 = "fd00:5c::fd";
  /** The source MAC of frames sent back to a pod reaching itself through a Service. */
  public static final long HAIRPIN_MAC = 0x0a58a9fe00fdL;
  public static final int CT_TRK = 0x20;

  private static java.math.BigInteger addr(String text) {
    try {
      return new java.math.BigInteger(1, java.net.InetAddress.getByName(text).getAddress());
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Match ctState(int value, int mask) {
    return Match.builder().masked(Field.CT_STATE, value, mask).build();
  }

  /** The table-miss flows of every table: what the bridge does before any policy exists. */
  public List<Flow> missFlows(int round) {
    List<Flow> out = new ArrayList<>();
    for (Table t : tables.values()) {
      List<Action> miss = switch (t.missNext()) {
        case Table.MISS_DROP -> List.of();
        case Table.MISS_NORMAL -> List.of(new Action.Normal());
        default -> List.of(new Action.GotoTable(t.missNext()));
      };
      out.add(new Flow(t.id(), 0, Match.ALL, miss, Cookie.of(Cookie.Category.BASE, round, t.id())));
    }
    return out;
  }

  /** Rejects a flow that uses an undeclared table or field, or goes to an undeclared table. */
  public void check(Flow f) {
    Table t = byId[f.table()];
    if (t == null) {
      throw new IllegalArgumentException("profile " + name + " has no table " + f.table() + ": " + f);
    }
    long allowed = allowedBits[f.table()];
    if ((f.match().fieldBits() & ~allowed) != 0) {
      for (Field field : f.match().fields().keySet()) {
        if (!t.matchFields().contains(field)) {
          throw new IllegalArgumentException("table " + t.name() + " of profile " + name + " may not match " + field.ofctlName() + ": " + f);
        }
      }
    }
    for (Action a : f.actions()) {
      int next = a instanceof Action.GotoTable g ? g.table() : a instanceof Action.Resubmit r ? r.table() : -1;
      if (next >= 0 && (next > 255 || byId[next] == null)) {
        throw new IllegalArgumentException("profile " + name + " has no table " + next + " (from " + f + ")");
      }
    }
  }
}
