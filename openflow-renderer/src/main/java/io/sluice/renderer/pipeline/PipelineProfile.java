package io.sluice.renderer.pipeline;

import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.Meter;
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
  public static final int SERVICE_AFFINITY = 14;
  public static final int SERVICE_AFFINITY_ENDPOINT = 15;
  public static final int CT_STATE = 20;
  public static final int EGRESS_RULE = 30;
  public static final int INGRESS_RULE = 40;
  public static final int CT_COMMIT = 50;
  public static final int SERVICE_MASQUERADE = 60;
  public static final int L2_FORWARDING = 90;
  public static final int AUDIT_LOG = 95;

  private final String name;
  private final Map<Integer, Table> tables = new TreeMap<>();
  /** The audit meters' rates, packets per second per switch: denied connections, and allowed ones of logged policies. */
  private long auditDenyRate = DEFAULT_AUDIT_DENY_RATE;
  private long auditAllowRate = DEFAULT_AUDIT_ALLOW_RATE;

  /** Per table id (0-254), the fields its flows may match as a {@link Field#bit} set. */
  private final long[] allowedBits = new long[256];
  private final Table[] byId = new Table[256];

  private final Capabilities capabilities;

  private PipelineProfile(String name, List<Table> tables) {
    this(name, tables, Capabilities.OVS);
  }

  private PipelineProfile(String name, List<Table> tables, Capabilities capabilities) {
    this.name = name;
    this.capabilities = capabilities;
    for (Table t : tables) {
      if (this.tables.put(t.id(), t) != null) {
        throw new IllegalArgumentException("table " + t.id() + " declared twice in profile " + name);
      }
      allowedBits[t.id()] = t.matchFieldBits();
      byId[t.id()] = t;
    }
  }

  /**
   * A profile from its declaration (a profile file): its tables and capabilities. Table 0 must be there (every
   * packet starts in it) and a miss may only go to a declared table.
   */
  public static PipelineProfile of(String name, List<Table> tables, Capabilities capabilities) {
    PipelineProfile p = new PipelineProfile(name, tables, capabilities);
    if (p.byId[0] == null) {
      throw new IllegalArgumentException("profile " + name + " declares no table 0 (every packet starts there)");
    }
    for (Table t : tables) {
      if (t.missNext() >= 0 && (t.missNext() > 254 || p.byId[t.missNext()] == null)) {
        throw new IllegalArgumentException("profile " + name + ": table " + t.id() + "'s miss goes to table "
            + t.missNext() + ", which it does not declare");
      }
    }
    return p;
  }

  public Capabilities capabilities() {
    return capabilities;
  }

  /** The default profile for Open vSwitch bridges. */
  public static PipelineProfile ovs() {
    return new PipelineProfile("ovs", List.of(
        new Table(CLASSIFIER, "Classifier", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE, Field.IP_PROTO,
            Field.ICMPV6_TYPE, Field.IPV4_SRC, Field.IPV6_SRC), CT_ZONE),
        new Table(CT_ZONE, "ConntrackZone", EnumSet.of(Field.CT_STATE, Field.CT_MARK, Field.ETH_TYPE, Field.IPV4_DST,
            Field.IPV6_DST, Field.IP_PROTO, Field.TCP_DST), L2_FORWARDING),
        new Table(SERVICE_LB, "ServiceLB", EnumSet.of(Field.CT_STATE, Field.ETH_TYPE, Field.IP_PROTO, Field.IPV4_DST,
            Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST), SERVICE_ENDPOINT),
        new Table(SERVICE_ENDPOINT, "ServiceEndpoint", EnumSet.of(Field.CT_STATE, Field.CT_MARK, Field.CT_LABEL, Field.ETH_TYPE,
            Field.IPV4_SRC, Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST), CT_STATE),
        new Table(SERVICE_HAIRPIN, "ServiceHairpin", EnumSet.of(Field.ETH_TYPE), Table.MISS_DROP),
        // only learned flows (a resubmit that misses does nothing): client + virtual address + protocol + port
        new Table(SERVICE_AFFINITY, "ServiceAffinity", EnumSet.of(Field.ETH_TYPE, Field.IP_PROTO, Field.IPV4_SRC,
            Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST), Table.MISS_DROP),
        new Table(SERVICE_AFFINITY_ENDPOINT, "ServiceAffinityEndpoint", EnumSet.of(Field.ETH_TYPE, Field.IP_PROTO,
            Field.IPV4_DST, Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST, AFFINITY_ADDRESS[0],
            AFFINITY_ADDRESS[1], AFFINITY_ADDRESS[2], AFFINITY_ADDRESS[3], AFFINITY_PORT), Table.MISS_DROP),
        new Table(CT_STATE, "ConntrackState", EnumSet.of(Field.CT_STATE, Field.CT_MARK, Field.IN_PORT, Field.ETH_TYPE),
            EGRESS_RULE),
        new Table(EGRESS_RULE, "EgressRule", EnumSet.of(Field.IN_PORT, Field.ETH_TYPE, Field.IP_PROTO,
            Field.IPV4_SRC, Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST, Field.CONJ_ID), INGRESS_RULE),
        new Table(INGRESS_RULE, "IngressRule", EnumSet.of(Field.ETH_TYPE, Field.IP_PROTO, Field.IPV4_SRC,
            Field.IPV4_DST, Field.IPV6_SRC, Field.IPV6_DST, Field.TCP_DST, Field.UDP_DST, Field.SCTP_DST, Field.CONJ_ID),
            CT_COMMIT),
        new Table(CT_COMMIT, "ConntrackCommit", EnumSet.of(Field.ETH_TYPE, Field.CT_MARK, MASQUERADE_REG), L2_FORWARDING),
        new Table(SERVICE_MASQUERADE, "ServiceMasquerade", EnumSet.of(Field.ETH_TYPE, Field.CT_STATE, Field.CT_MARK,
            MASQUERADE_REG), L2_FORWARDING),
        new Table(L2_FORWARDING, "L2Forwarding", EnumSet.allOf(Field.class), Table.MISS_NORMAL),
        new Table(AUDIT_LOG, "AuditLog", EnumSet.noneOf(Field.class), Table.MISS_DROP)));
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
      // ...and one to masquerade (table 11 said so in the register): marked for it, then to the node's SNAT
      Match masquerade = (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(MASQUERADE_REG, MASQUERADE_THIS, MASQUERADE_THIS).masked(Field.CT_MARK, UNJUDGED, UNJUDGED).build();
      out.add(new Flow(CT_COMMIT, 115, masquerade, List.of(new Action.Ct(true, false, zone, null, 0, -1, null,
          List.of(new Action.Load(Field.CT_MARK, 0, 3, MASQUERADE))), new Action.GotoTable(SERVICE_MASQUERADE)), c));
      // masquerade replies, un-SNATed in the masquerade zone (table 10 of the node's addresses, see ServiceTables):
      // back to the MAC the client's frames came from, then un-DNATed by the lookup in the switch's zone
      Match masqueradeReply = (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(Field.CT_STATE, CT_RPL | CT_TRK, CT_RPL | CT_TRK).masked(Field.CT_MARK, MASQUERADED, MASQUERADED)
          .build();
      out.add(new Flow(CT_ZONE, 105, masqueradeReply, List.of(new Action.Move(Field.CT_LABEL, 0, Field.ETH_DST, 0, 48),
          new Action.Ct(false, false, zone, null, 0, SERVICE_LB, Action.Nat.reverse(), List.of())), c));
    }
    // Every packet of a DNATed connection, original direction: the endpoint's MAC, which the Service's bucket stored in
    // the connection's label (so connections keep reaching an endpoint that has left the Service)
    out.add(new Flow(SERVICE_ENDPOINT, 100, Match.builder()
        .masked(Field.CT_STATE, CT_DNAT | CT_TRK, CT_DNAT | CT_RPL | CT_TRK)
        .masked(Field.CT_LABEL, ENDPOINT_MAC_KNOWN, ENDPOINT_MAC_KNOWN).build(),
        List.of(new Action.Move(Field.CT_LABEL, 0, Field.ETH_DST, 0, 48), new Action.GotoTable(CT_STATE)), c));
    // hairpin connections after their first packet: back to the pod, SNATed as recorded
    for (boolean v6 : new boolean[] {false, true}) {
      Match m = (v6 ? Match.builder().ipv6() : Match.builder().ipv4())
          .masked(Field.CT_STATE, CT_TRK, CT_NEW | CT_RPL | CT_TRK).masked(Field.CT_MARK, HAIRPIN, HAIRPIN).build();
      List<Action> back = new ArrayList<>(hairpinFrame());
      back.add(new Action.Ct(false, false, HAIRPIN_ZONE, null, 0, SERVICE_HAIRPIN, Action.Nat.reverse(), List.of()));
      out.add(new Flow(SERVICE_ENDPOINT, 115, m, back, c));
    }
    // hairpin replies (un-DNATed: from the virtual address to the pod): back to the pod, from the hairpin MAC
    List<Action> reply = new ArrayList<>(hairpinFrame());
    reply.add(new Action.InPort());
    out.add(new Flow(SERVICE_ENDPOINT, 120, Match.builder().masked(Field.CT_STATE, CT_RPL | CT_TRK, CT_RPL | CT_TRK)
        .masked(Field.CT_MARK, HAIRPIN, HAIRPIN).build(), reply, c));
    out.add(new Flow(CT_STATE, 210, ctState(CT_INV | CT_TRK, CT_INV | CT_TRK), List.of(), c));
    // A translated connection whose first packet policy never allowed: its replies are dropped (an endpoint must not
    // open a path a policy closed by answering), and later packets of its client are judged again.
    out.add(new Flow(CT_STATE, 206, Match.builder().masked(Field.CT_STATE, CT_RPL | CT_TRK, CT_RPL | CT_TRK)
        .masked(Field.CT_MARK, UNJUDGED, UNJUDGED).build(), List.of(), c));
    out.add(new Flow(CT_STATE, 205, Match.builder().masked(Field.CT_STATE, CT_TRK, CT_NEW | CT_TRK)
        .masked(Field.CT_MARK, UNJUDGED, UNJUDGED).build(), List.of(new Action.GotoTable(EGRESS_RULE)), c));
    out.add(new Flow(CT_STATE, 200, ctState(CT_EST | CT_TRK, CT_EST | CT_TRK), List.of(new Action.GotoTable(L2_FORWARDING)), c));
    // a masqueraded connection's later packets (original direction) take the node's SNAT again
    out.add(new Flow(CT_STATE, 201, Match.builder().masked(Field.CT_STATE, CT_EST | CT_TRK, CT_EST | CT_RPL | CT_TRK)
        .masked(Field.CT_MARK, MASQUERADE, MASQUERADE).build(), List.of(new Action.GotoTable(SERVICE_MASQUERADE)), c));
    out.add(new Flow(CT_STATE, 200, ctState(CT_REL | CT_TRK, CT_REL | CT_TRK), List.of(new Action.GotoTable(L2_FORWARDING)), c));
    out.add(new Flow(CT_STATE, 190, Match.builder().masked(Field.CT_STATE, CT_NEW | CT_TRK, CT_NEW | CT_TRK)
        .exact(Field.IN_PORT, 0xfffffffeL).build(), List.of(new Action.GotoTable(CT_COMMIT)), c));
    // the audit log of allowed connections: forwarded first, then a copy through the meter to the controller (a
    // meter drops only what follows it, so it never drops the forwarded packet)
    out.add(new Flow(L2_FORWARDING, 50, Match.builder().masked(LOG_REG, LOG_THIS, LOG_THIS).build(),
        List.of(new Action.Normal(), new Action.Resubmit(AUDIT_LOG)), Cookie.of(Cookie.Category.AUDIT, round, 0)));
    out.add(new Flow(AUDIT_LOG, 100, Match.ALL, List.of(new Action.Meter(AUDIT_ALLOW_METER.id()),
        new Action.Controller(AUDIT_MAX_LEN)), Cookie.of(Cookie.Category.AUDIT, round, 1)));
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
  /**
   * ct_mark bit 2, in the switch's zone: a Service connection from outside (a NodePort, an external or load-balancer
   * IP of an {@code externalTrafficPolicy: Cluster} Service) whose source is masqueraded to the node's address.
   */
  public static final long MASQUERADE = 0x4;
  /** ct_mark bit 3, in {@link #MASQUERADE_ZONE}: the node's SNAT of such a connection; ct_label 0..47 the client's MAC. */
  public static final long MASQUERADED = 0x8;
  /**
   * The conntrack zone of the masquerade SNAT, the same on every bridge (outside every switch's own zone): its
   * entries are keyed by the node's own address, which only that node's switches translate.
   */
  public static final int MASQUERADE_ZONE = 65533;
  /**
   * The source ports masquerade chooses from: above Linux's default ephemeral range (32768-60999). The node's own
   * connections (in the switch's zone) and masqueraded ones (in {@link #MASQUERADE_ZONE}) share the node's address
   * but never a source port, so the reply to a node's connection is never taken for a masqueraded one in the
   * masquerade zone. It bounds a node to 4,536 masqueraded connections at once per endpoint address and port.
   */
  public static final int MASQUERADE_PORT_MIN = 61000;
  public static final int MASQUERADE_PORT_MAX = 65535;
  /** reg6 bit 0, set by a ServiceLB flow on a connection's first packet: masquerade it (read by table 50). */
  public static final Field MASQUERADE_REG = Field.REG6;
  public static final long MASQUERADE_THIS = 0x1;
  /**
   * reg6 bit 1, set by the allowing flow of a rule whose policy asks for logging ({@code sluice.io/log: "true"}):
   * after forwarding, table 90 sends a copy of the packet to the audit log (table 95). The rule's id is in
   * {@link #EGRESS_RULE_REG} or {@link #INGRESS_RULE_REG}, which the PACKET_IN carries.
   */
  public static final long LOG_THIS = 0x2;
  public static final Field LOG_REG = Field.REG6;
  /** The id of the logged egress rule that allowed a connection's first packet (0: none). */
  public static final Field EGRESS_RULE_REG = Field.REG7;
  /** The id of the logged ingress rule that allowed a connection's first packet (0: none). */
  public static final Field INGRESS_RULE_REG = Field.REG8;
  /** Bytes of a packet the audit log's PACKET_INs carry: Ethernet, IPv6 and TCP headers with room to spare. */
  public static final int AUDIT_MAX_LEN = 128;
  /**
   * The audit log's meters (packets per second, on the switch): new connections denied by isolation, and those a
   * logged rule allowed. What a meter drops is only the copy to the controller (the verdict is the flow's), and the
   * switch counts it (meter stats).
   */
  public static final Meter AUDIT_DENY_METER = new Meter(Meter.FIRST_OWNED + 2, true, 10_000, 2_000);
  public static final Meter AUDIT_ALLOW_METER = new Meter(Meter.FIRST_OWNED + 3, true, 1_000, 200);
  /**
   * Default rates. Denied connections: 10,000/s, what an operator asks for first. Allowed ones: 1,000/s, because each
   * logged connection costs the switch an upcall (the userspace datapath cannot send to the controller by itself) on
   * the path of traffic that passes: at 10,000/s a 2-core node opened a quarter fewer connections per second, at
   * 1,000/s under a tenth (AuditBench). Past a rate the meter drops the copies, counted on /metrics.
   */
  public static final long DEFAULT_AUDIT_DENY_RATE = AUDIT_DENY_METER.rate();
  public static final long DEFAULT_AUDIT_ALLOW_RATE = AUDIT_ALLOW_METER.rate();
  /** The isolation drop's actions: the packet goes nowhere but, through {@link #AUDIT_DENY_METER}, to the controller. */
  public static final List<Action> AUDITED_DROP = List.of(new Action.Meter(AUDIT_DENY_METER.id()),
      new Action.Controller(AUDIT_MAX_LEN));

  /** The meters every switch of this profile has: the audit log's, at this profile's rates (burst: a fifth). */
  public List<Meter> baseMeters() {
    return List.of(new Meter(AUDIT_DENY_METER.id(), true, auditDenyRate, Math.max(1, auditDenyRate / 5)),
        new Meter(AUDIT_ALLOW_METER.id(), true, auditAllowRate, Math.max(1, auditAllowRate / 5)));
  }

  /** This profile with other audit meter rates (packets per second per switch, each 1..4294967295). */
  public PipelineProfile withAuditRates(long deny, long allow) {
    if (deny < 1 || allow < 1 || deny > 0xffff_ffffL || allow > 0xffff_ffffL) {
      throw new IllegalArgumentException("audit rates must be 1..4294967295 packets/s, got " + deny + " and " + allow);
    }
    PipelineProfile p = new PipelineProfile(name, List.copyOf(tables.values()), capabilities);
    p.auditDenyRate = deny;
    p.auditAllowRate = allow;
    return p;
  }

  /** ct_label bit 48: bits 0..47 hold the MAC of the endpoint a Service translated the connection to. */
  public static final long ENDPOINT_MAC_KNOWN = 1L << 48;
  /** The source MAC of frames sent back to a pod reaching itself through a Service. */
  public static final long HAIRPIN_MAC = 0x0a58a9fe00fdL;
  public static final int CT_TRK = 0x20;
  /** The OpenFlow port number of the bridge's own (LOCAL) port. */
  public static final long OFPP_LOCAL = 0xfffffffeL;

  /**
   * Session affinity: the registers a learned ServiceAffinity flow loads the chosen endpoint into. The address: an
   * IPv4 one in reg0, an IPv6 one in reg0..reg3 (reg0 the most significant 32 bits).
   */
  public static final Field[] AFFINITY_ADDRESS = {Field.REG0, Field.REG1, Field.REG2, Field.REG3};
  /** Session affinity: reg4 bits 0..15 the endpoint's target port, bit 16 {@link #AFFINITY_CHOSEN}. */
  public static final Field AFFINITY_PORT = Field.REG4;
  /**
   * Session affinity: reg5 bits 0..15 receive the client's source port before the group is applied, read by nothing.
   * Reading a field makes OVS's datapath flow exact on it, so the path through the group is cached per connection,
   * never per client: a client's next connection is translated again and finds the flow the first one learned.
   */
  public static final Field AFFINITY_SCRATCH = Field.REG5;
  /** reg4 bit 16: a learned flow chose the endpoint in the affinity registers. */
  public static final long AFFINITY_CHOSEN = 1L << 16;

  /** A hairpin frame goes back to the pod that sent it (its MAC), from the hairpin MAC. */
  public static List<Action> hairpinFrame() {
    return List.of(new Action.Move(Field.ETH_SRC, 0, Field.ETH_DST, 0, 48),
        new Action.SetField(FieldValue.exact(Field.ETH_SRC, HAIRPIN_MAC)));
  }

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
      int next = a instanceof Action.GotoTable g ? g.table() : a instanceof Action.Resubmit r ? r.table()
          : a instanceof Action.Learn l ? l.table() : -1;
      if (next >= 0 && (next > 255 || byId[next] == null)) {
        throw new IllegalArgumentException("profile " + name + " has no table " + next + " (from " + f + ")");
      }
      String lacks = lacks(a);
      if (lacks != null) {
        throw new IllegalArgumentException("profile " + name + " has no " + lacks + ", which " + actionName(a)
            + " needs: " + f);
      }
    }
    for (Field field : f.match().fields().keySet()) {
      boolean ct = field == Field.CT_STATE || field == Field.CT_MARK || field == Field.CT_LABEL || field == Field.CT_ZONE;
      if (ct && !capabilities.conntrack() || field == Field.CONJ_ID && !capabilities.conjunction()
          || field.registerIndex() >= 0 && !capabilities.nicira()) {
        throw new IllegalArgumentException("profile " + name + " has no " + (ct ? "conntrack" : field == Field.CONJ_ID
            ? "conjunction" : "nicira") + ", which matching " + field.ofctlName() + " needs: " + f);
      }
    }
  }

  /** The capability an action needs that this profile lacks, or null. */
  private String lacks(Action a) {
    if ((a instanceof Action.Ct || a instanceof Action.Nat || a instanceof Action.CtClear) && !capabilities.conntrack()) {
      return "conntrack";
    }
    if (a instanceof Action.Conjunction && !capabilities.conjunction()) {
      return "conjunction";
    }
    if ((a instanceof Action.Resubmit || a instanceof Action.Learn || a instanceof Action.Move || a instanceof Action.CtClear
        || a instanceof Action.Load l && (l.ofs() != 0 || l.nBits() != l.field().bits() || l.field().registerIndex() >= 0))
        && !capabilities.nicira()) {
      return "nicira";
    }
    if (a instanceof Action.SetField s && s.value().field().registerIndex() >= 0 && !capabilities.nicira()) {
      return "nicira";
    }
    if (a instanceof Action.Meter && !capabilities.meters()) {
      return "meters";
    }
    if (a instanceof Action.Group && capabilities.groupTypes().isEmpty()) {
      return "groups";
    }
    return null;
  }

  private static String actionName(Action a) {
    return a.getClass().getSimpleName().toLowerCase(java.util.Locale.ROOT);
  }

  /** Flows per table of {@code flows} that exceed a table's size: table id -> {flows, size}. */
  public Map<Integer, long[]> overBudget(java.util.Collection<Flow> flows) {
    Map<Integer, long[]> use = new TreeMap<>();
    for (Flow f : flows) {
      use.computeIfAbsent(f.table(), k -> new long[2])[0]++;
    }
    Map<Integer, long[]> over = new TreeMap<>();
    use.forEach((t, c) -> {
      Table table = byId[t];
      if (table != null && c[0] > table.size()) {
        over.put(t, new long[] {c[0], table.size()});
      }
    });
    return over;
  }
}
