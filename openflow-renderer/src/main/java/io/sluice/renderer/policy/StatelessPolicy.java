package io.sluice.renderer.policy;

import io.sluice.model.Pod;
import io.sluice.model.PortBinding;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.FieldValue;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.Matches;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * NetworkPolicy for a switch without conntrack and conjunction: one table of prioritized allows and drops whose
 * verdict on each packet is a pure function of its headers (docs/pipeline.md, "Stateless NetworkPolicy").
 *
 * <p>A packet passes when it may open a connection (the policy verdict, as the stateful pipeline gives it to a
 * connection's first packet) or when it looks like a reply of a connection that may be opened the other way: its
 * swapped packet (addresses and ports exchanged) may open one, and it is reply-shaped: TCP with ACK set (where the
 * table can match tcp_flags) and, for TCP, UDP and SCTP, a destination port in the ephemeral range (32768 and up);
 * ICMP echo replies and errors. Each side is judged on the switch of its pod: the source pod's egress (and, for replies, its
 * ingress rules reversed) where it sends, the destination pod's ingress (and its egress rules reversed) where it
 * receives.
 *
 * <p>It starts from the stateful compiler's flows ({@link PolicyCompiler}, which holds all of NetworkPolicy's
 * semantics: selection, named ports, except, isolation, exemptions) and spells out what conjunction and the two
 * chained tables computed: each rule's clauses multiplied out into plain matches, and, for a packet to a pod of this
 * switch, each allow of the source's side intersected with each of the destination's. The bands, highest first:
 * <ol>
 *   <li>{@link #LOCAL_ALLOW}: to a local pod address, from a local pod (its port and its own address): both sides'
 *   products, and the pod's exemptions (itself);</li>
 *   <li>{@link #LOCAL_SOURCE_DROP}: to a local pod address, anything else from a local pod's port;</li>
 *   <li>{@link #LOCAL_FROM_OUTSIDE}: to a local pod address from anywhere else (uplinks): the destination's side
 *   alone, and its own node's exemption;</li>
 *   <li>{@link #LOCAL_DROP}: to a local pod address, the rest;</li>
 *   <li>{@link #SOURCE_ALLOW}: from a local pod to anywhere else: the source's side alone, and its exemptions;</li>
 *   <li>{@link #SOURCE_DROP}: anything else from a local pod's port (other addresses: spoofing; denied traffic);</li>
 *   <li>below: transit traffic, neither from nor to a local pod, passes.</li>
 * </ol>
 * Flow counts grow as products (a rule with P peers and Q ports costs P × Q flows per target, and every pair of
 * local pods multiplies their sides): the switch's table sizes are budgets that SwitchSync enforces, failing closed.
 */
public final class StatelessPolicy {
  public static final int NEIGHBOUR = 1000;
  public static final int LOCAL_ALLOW = 500;
  /** To a local pod address from an attached node's own address: the destination's side alone. */
  public static final int NODE_TO_LOCAL = 450;
  public static final int LOCAL_SOURCE_DROP = 400;
  public static final int LOCAL_FROM_OUTSIDE = 300;
  public static final int LOCAL_DROP = 250;
  public static final int SOURCE_ALLOW = 200;
  public static final int SOURCE_DROP = 100;
  /**
   * The cookie object id (category BASE) of the decision list's allows that no rule owns: a side not isolated, a
   * reply-shaped packet of an open side, an attached node's own traffic.
   */
  public static final long OPEN_OBJECT = 0xfff1;
  /** The lowest port a reply may go to: the start of the ephemeral range clients open connections from. */
  public static final int EPHEMERAL_FROM = 32768;
  private static final long TCP_ACK = 0x010;
  /** ICMP types a reply may have: echo reply, destination unreachable, time exceeded. */
  static final int[] ICMPV4_REPLIES = {0, 3, 11};
  /** ICMPv6 types a reply may have: destination unreachable, packet too big, time exceeded, echo reply. */
  static final int[] ICMPV6_REPLIES = {1, 2, 3, 129};

  /**
   * One entry of the decision list: allow or drop. For an allow to a local pod, its port ({@code destinationPort}),
   * and, when the flow matches one input port, that port ({@code sourcePort}, else -1): a pod's traffic to its own
   * port goes back out of the port it came in by.
   */
  public record Decision(int priority, Match match, boolean allow, long destinationPort, long sourcePort, Cookie cookie) {
    /** Whether the packet goes back out of the port it came in by. */
    public boolean hairpin() {
      return destinationPort >= 0 && destinationPort == sourcePort;
    }
  }

  private record Term(Match match, Cookie cookie) { }

  /** A local pod address: the pod's port and the address as a source and as a destination match. */
  private record Address(long port, boolean v6, Match source, Match destination) { }

  private final int round;
  private final boolean tcpFlags;
  private final Cookie open;
  private final Cookie isolation;
  private final List<Address> addresses = new ArrayList<>();
  /** Egress is keyed by what a pod sends: its port, or its port and source address on a shared port. */
  private final Set<Match> egressIsolated = new LinkedHashSet<>();
  /** The own addresses of the nodes attached to this switch, as sources on their ports. */
  private final List<Address> nodeSources = new ArrayList<>();
  private final Set<Match> ingressIsolated = new LinkedHashSet<>();
  private final Map<Match, List<Term>> egressTerms = new LinkedHashMap<>();
  private final Map<Match, List<Term>> ingressTerms = new LinkedHashMap<>();
  private final List<Term> egressExemptions = new ArrayList<>();
  private final List<Term> ingressExemptions = new ArrayList<>();
  private final Map<FlowSlot, Decision> out = new LinkedHashMap<>();

  private record FlowSlot(int priority, Match match) { }

  private StatelessPolicy(int round, boolean tcpFlags) {
    this.round = round;
    this.tcpFlags = tcpFlags;
    this.open = Cookie.of(Cookie.Category.BASE, round, OPEN_OBJECT);
    this.isolation = Cookie.of(Cookie.Category.ISOLATION, round, 0);
  }

  /**
   * The decision list of one switch. {@code tcpFlags}: whether the policy table can match tcp_flags (then a TCP reply
   * must carry ACK, so a peer can never open a connection through a reverse rule).
   */
  public static List<Decision> compile(PolicyIndex index, long dpid, int round, boolean legacyIsolation, Inputs inputs,
                                       boolean tcpFlags) {
    List<Flow> stateful = PolicyCompiler.compile(index, dpid, round, legacyIsolation, inputs);
    StatelessPolicy s = new StatelessPolicy(round, tcpFlags);
    s.localAddresses(index, dpid);
    s.read(stateful);
    s.decide();
    return new ArrayList<>(s.out.values());
  }

  private void localAddresses(PolicyIndex index, long dpid) {
    for (PortBinding b : index.bindingsOn(dpid)) {
      Pod p = index.snapshot().pods().get(b.pod());
      if (p == null || p.hostNetwork()) {
        continue;
      }
      for (String ip : p.ips()) {
        Cidr c = index.cidr(ip);
        Match src = Matches.intersect(Match.builder().exact(Field.IN_PORT, b.ofport()).build(), PolicyCompiler.hostMatch(c, true));
        addresses.add(new Address(b.ofport(), c.v6(), src, PolicyCompiler.hostMatch(c, false)));
      }
    }
    for (io.sluice.model.Node n : index.snapshot().nodes().values()) {
      if (n.attachment() != null && n.attachment().dpid() == dpid) {
        for (String ip : n.internalIPs()) {
          Cidr c = index.cidr(ip);
          Match src = Matches.intersect(Match.builder().exact(Field.IN_PORT, n.attachment().port()).build(),
              PolicyCompiler.hostMatch(c, true));
          nodeSources.add(new Address(n.attachment().port(), c.v6(), src, PolicyCompiler.hostMatch(c, false)));
        }
      }
    }
  }

  /** The egress key of a flow from a pod: its input port, and its source address where it has one. */
  private static Match egressKey(Match m) {
    Match.Builder b = Match.builder().put(m.get(Field.IN_PORT));
    for (Field f : List.of(Field.IPV4_SRC, Field.IPV6_SRC)) {
      if (m.has(f)) {
        b.put(m.get(Field.ETH_TYPE)).put(m.get(f));
      }
    }
    return b.build();
  }

  private static Match portKey(Address a) {
    return Match.builder().exact(Field.IN_PORT, a.port()).build();
  }

  private boolean egressIsolated(Address a) {
    return egressIsolated.contains(portKey(a)) || egressIsolated.contains(egressKey(a.source()));
  }

  private List<Term> egressTerms(Address a) {
    List<Term> out = new ArrayList<>(egressTerms.getOrDefault(portKey(a), List.of()));
    out.addAll(egressTerms.getOrDefault(egressKey(a.source()), List.of()));
    return out;
  }

  // ------------------------------------------------------------------ reading the stateful compile

  private void read(List<Flow> flows) {
    Map<Long, Map<Integer, List<Match>>> clauses = new TreeMap<>();
    Map<Long, Integer> clauseCount = new TreeMap<>();
    Map<Long, Cookie> ruleCookie = new TreeMap<>();
    Map<Long, Integer> ruleTable = new TreeMap<>();
    for (Flow f : flows) {
      boolean egress = f.table() == PipelineProfile.EGRESS_RULE;
      if (!egress && f.table() != PipelineProfile.INGRESS_RULE) {
        continue; // admission (table 0) and closed MACs (table 90) belong to OVSDB-managed bridges
      }
      if (f.priority() == PolicyCompiler.ISOLATION_PRIORITY) {
        if (egress) {
          egressIsolated.add(egressKey(f.match()));
        } else {
          ingressIsolated.add(f.match());
        }
      } else if (f.priority() == PolicyCompiler.SELF_PRIORITY) {
        (egress ? egressExemptions : ingressExemptions).add(new Term(f.match(), f.cookie()));
      } else if (f.priority() == PolicyCompiler.DIRECT_PRIORITY) {
        addTerm(egress, new Term(f.match(), f.cookie()));
      } else if (f.match().has(Field.CONJ_ID)) {
        long id = f.match().get(Field.CONJ_ID).longValue();
        ruleCookie.put(id, f.cookie());
        ruleTable.put(id, f.table());
      } else {
        for (Action a : f.actions()) {
          if (a instanceof Action.Conjunction c) {
            clauses.computeIfAbsent(c.id(), k -> new TreeMap<>()).computeIfAbsent(c.clause(), k -> new ArrayList<>())
                .add(f.match());
            clauseCount.put(c.id(), c.nClauses());
          }
        }
      }
    }
    // each conjunction multiplied out: one plain match per choice of one match from every clause
    for (Map.Entry<Long, Map<Integer, List<Match>>> e : clauses.entrySet()) {
      long id = e.getKey();
      Cookie cookie = ruleCookie.get(id);
      if (cookie == null || e.getValue().size() != clauseCount.get(id)) {
        continue; // a rule with an empty clause allows nothing
      }
      List<Match> product = List.of(Match.ALL);
      for (List<Match> clause : e.getValue().values()) {
        List<Match> next = new ArrayList<>();
        for (Match a : product) {
          for (Match b : clause) {
            Match m = Matches.intersect(a, b);
            if (m != null) {
              next.add(m);
            }
          }
        }
        product = next;
      }
      boolean egress = ruleTable.get(id) == PipelineProfile.EGRESS_RULE;
      product.forEach(m -> addTerm(egress, new Term(m, cookie)));
    }
  }

  private void addTerm(boolean egress, Term t) {
    if (egress) {
      egressTerms.computeIfAbsent(egressKey(t.match()), k -> new ArrayList<>()).add(t);
    } else {
      ingressTerms.computeIfAbsent(destinationOf(t.match()), k -> new ArrayList<>()).add(t);
    }
  }

  /** The destination address part of a match (its eth_type and address), as the isolation flows key it. */
  private static Match destinationOf(Match m) {
    Match.Builder b = Match.builder().put(m.get(Field.ETH_TYPE));
    FieldValue v = m.get(m.has(Field.IPV4_DST) ? Field.IPV4_DST : Field.IPV6_DST);
    if (v != null) {
      b.put(v);
    }
    return b.build();
  }

  // ------------------------------------------------------------------ the two sides of each packet

  /** What the source pod's side lets it send as a connection's first packet. */
  private List<Term> sendsFirst(Address a) {
    if (!egressIsolated(a)) {
      return List.of(new Term(a.source(), open));
    }
    return restrict(egressTerms(a), a.source());
  }

  /** What the source pod's side lets it send as a reply: its ingress rules reversed. */
  private List<Term> sendsReply(Address a) {
    List<Term> base = ingressIsolated.contains(a.destination())
        ? reversed(ingressTerms.getOrDefault(a.destination(), List.of())) : List.of(new Term(Match.ALL, open));
    return restrict(shaped(base, a.v6()), a.source());
  }

  /** What the destination pod's side lets it receive as a connection's first packet. */
  private List<Term> receivesFirst(Address a) {
    if (!ingressIsolated.contains(a.destination())) {
      return List.of(new Term(a.destination(), open));
    }
    return ingressTerms.getOrDefault(a.destination(), List.of());
  }

  /** What the destination pod's side lets it receive as a reply: its egress rules (towards this address) reversed. */
  private List<Term> receivesReply(Address a) {
    List<Term> base = egressIsolated(a)
        ? reversed(egressTerms(a)) : List.of(new Term(Match.ALL, open));
    return restrict(shaped(base, a.v6()), a.destination());
  }

  private static List<Term> restrict(List<Term> terms, Match to) {
    List<Term> out = new ArrayList<>(terms.size());
    for (Term t : terms) {
      Match m = Matches.intersect(t.match(), to);
      if (m != null) {
        out.add(new Term(m, t.cookie()));
      }
    }
    return out;
  }

  /** Each term as a reply would match it: addresses and ports swapped, no input port. */
  private static List<Term> reversed(List<Term> terms) {
    List<Term> out = new ArrayList<>(terms.size());
    for (Term t : terms) {
      Match.Builder b = Match.builder();
      for (FieldValue v : t.match().fields().values()) {
        Field f = switch (v.field()) {
          case IN_PORT -> null;
          case IPV4_SRC -> Field.IPV4_DST;
          case IPV4_DST -> Field.IPV4_SRC;
          case IPV6_SRC -> Field.IPV6_DST;
          case IPV6_DST -> Field.IPV6_SRC;
          case TCP_DST -> Field.TCP_SRC;
          case UDP_DST -> Field.UDP_SRC;
          case SCTP_DST -> Field.SCTP_SRC;
          case TCP_SRC -> Field.TCP_DST;
          case UDP_SRC -> Field.UDP_DST;
          case SCTP_SRC -> Field.SCTP_DST;
          default -> v.field();
        };
        if (f != null) {
          b.put(new FieldValue(f, v.value(), v.mask()));
        }
      }
      out.add(new Term(b.build(), t.cookie()));
    }
    return out;
  }

  /** The terms restricted to reply-shaped packets of the family: one per protocol a reply may be. */
  private List<Term> shaped(List<Term> terms, boolean v6) {
    List<Match> shapes = replyShapes(v6, tcpFlags);
    List<Term> out = new ArrayList<>();
    for (Term t : terms) {
      for (Match s : shapes) {
        Match m = Matches.intersect(t.match(), s);
        if (m != null) {
          out.add(new Term(m, t.cookie()));
        }
      }
    }
    return out;
  }

  /**
   * What a reply may look like: TCP (ACK set where matchable), UDP, SCTP to an ephemeral port; ICMP echo replies and
   * errors.
   */
  public static List<Match> replyShapes(boolean v6, boolean tcpFlags) {
    List<Match> out = new ArrayList<>();
    long high = EPHEMERAL_FROM;
    Match.Builder tcp = family(v6).exact(Field.IP_PROTO, 6).masked(Field.TCP_DST, high, high);
    if (tcpFlags) {
      tcp.masked(Field.TCP_FLAGS, TCP_ACK, TCP_ACK);
    }
    out.add(tcp.build());
    out.add(family(v6).exact(Field.IP_PROTO, 17).masked(Field.UDP_DST, high, high).build());
    out.add(family(v6).exact(Field.IP_PROTO, 132).masked(Field.SCTP_DST, high, high).build());
    // ICMP: echo replies and the errors a connection may draw (an echo request is never a reply)
    for (int type : v6 ? ICMPV6_REPLIES : ICMPV4_REPLIES) {
      out.add(v6 ? family(true).exact(Field.IP_PROTO, 58).exact(Field.ICMPV6_TYPE, type).build()
          : family(false).exact(Field.IP_PROTO, 1).exact(Field.ICMPV4_TYPE, type).build());
    }
    return out;
  }

  private static Match.Builder family(boolean v6) {
    return v6 ? Match.builder().ipv6() : Match.builder().ipv4();
  }

  // ------------------------------------------------------------------ the decision list

  private void decide() {
    Set<Match> localDestinations = new LinkedHashSet<>();
    Set<Long> ports = new LinkedHashSet<>();
    for (Address a : addresses) {
      localDestinations.add(a.destination());
      ports.add(a.port());
    }
    // (where a side is open its first-packet term is the whole address, which holds every reply term too)
    for (Address d : addresses) {
      boolean dOpen = !ingressIsolated.contains(d.destination());
      List<Term> first = receivesFirst(d);
      List<Term> reply = dOpen ? List.of() : receivesReply(d);
      for (Address s : addresses) {
        if (s.v6() != d.v6()) {
          continue;
        }
        boolean sOpen = !egressIsolated(s);
        products(sendsFirst(s), first, d);
        if (!(sOpen && dOpen)) {
          products(sendsReply(s), receivesReply(d), d);
        }
      }
      for (long port : ports) { // (of either family: a port sends only its pods' addresses)
        put(LOCAL_SOURCE_DROP, Matches.intersect(Match.builder().exact(Field.IN_PORT, port).build(), d.destination()),
            false, -1, isolation);
      }
      // from an attached node's own address (on a port of local pods): judged as from outside, above their port's drop
      for (Address n : nodeSources) {
        if (n.v6() == d.v6()) {
          restrict(first, n.source()).forEach(t -> put(NODE_TO_LOCAL, t.match(), true, d.port(), t.cookie()));
          restrict(reply, n.source()).forEach(t -> put(NODE_TO_LOCAL, t.match(), true, d.port(), t.cookie()));
        }
      }
      first.forEach(t -> put(LOCAL_FROM_OUTSIDE, t.match(), true, d.port(), t.cookie()));
      reply.forEach(t -> put(LOCAL_FROM_OUTSIDE, t.match(), true, d.port(), t.cookie()));
      put(LOCAL_DROP, d.destination(), false, -1, isolation);
    }
    for (Term t : egressExemptions) {
      for (Address s : addresses) {
        Match m = Matches.intersect(t.match(), s.source());
        if (m != null) {
          Address local = localOf(m, localDestinations);
          put(local != null ? LOCAL_ALLOW : SOURCE_ALLOW, m, true, local != null ? local.port() : -1, t.cookie());
        }
      }
    }
    for (Term t : ingressExemptions) {
      Address local = localOf(t.match(), localDestinations);
      if (local != null) {
        put(LOCAL_FROM_OUTSIDE, t.match(), true, local.port(), t.cookie());
        for (Address n : nodeSources) {
          Match m = Matches.intersect(t.match(), n.source());
          if (m != null) {
            put(NODE_TO_LOCAL, m, true, local.port(), t.cookie());
          }
        }
      }
    }
    // an attached node's own traffic to anywhere else is not governed here (its pods' is): above its port's drop
    for (Address n : nodeSources) {
      put(SOURCE_ALLOW, n.source(), true, -1, open);
    }
    for (Address s : addresses) {
      sendsFirst(s).forEach(t -> put(SOURCE_ALLOW, t.match(), true, -1, t.cookie()));
      if (egressIsolated(s)) {
        sendsReply(s).forEach(t -> put(SOURCE_ALLOW, t.match(), true, -1, t.cookie()));
      }
    }
    for (long port : ports) {
      for (boolean v6 : List.of(false, true)) {
        put(SOURCE_DROP, family(v6).exact(Field.IN_PORT, port).build(), false, -1, isolation);
      }
    }
  }

  /** The local address a match's destination is, or null. */
  private Address localOf(Match m, Set<Match> localDestinations) {
    Match dst = destinationOf(m);
    if (!localDestinations.contains(dst)) {
      return null;
    }
    for (Address a : addresses) {
      if (a.destination().equals(dst)) {
        return a;
      }
    }
    return null;
  }

  /** Every source term intersected with every destination term, allowed towards the destination's port. */
  private void products(List<Term> sources, List<Term> destinations, Address d) {
    for (Term s : sources) {
      for (Term t : destinations) {
        Match m = Matches.intersect(s.match(), t.match());
        if (m != null) {
          // the counters follow a rule: the destination side's where it has one, else the source side's
          Cookie c = t.cookie().isRuleAllow() || !s.cookie().isRuleAllow() ? t.cookie() : s.cookie();
          put(LOCAL_ALLOW, m, true, d.port(), c);
        }
      }
    }
  }

  private void put(int priority, Match m, boolean allow, long port, Cookie cookie) {
    if (m != null) {
      long in = m.has(Field.IN_PORT) ? m.get(Field.IN_PORT).longValue() : -1;
      out.putIfAbsent(new FlowSlot(priority, m), new Decision(priority, m, allow, port, in, cookie));
    }
  }
}
