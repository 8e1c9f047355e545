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
import io.sluice.renderer.pipeline.PipelineProfile;
import io.sluice.renderer.pipeline.Table;
import io.sluice.renderer.policy.Inputs;
import io.sluice.renderer.policy.PolicyIndex;
import io.sluice.renderer.policy.StatelessPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The renderer for switches without conntrack: hardware profiles such as {@code openflow13-generic} (tables named
 * Classifier, Policy and Forwarding) and {@code openflow13-single-table} (one table). Standard OpenFlow 1.3 only:
 * matches on OXM fields, goto-table, output. NetworkPolicy takes its stateless form ({@link StatelessPolicy}); ARP and
 * IPv6 neighbour discovery are not governed (a copy goes to the controller for host tracking, and LLDP goes to it
 * for topology discovery); a packet policy lets through is forwarded to the local pod it is for
 * (its port, or its MAC in the Forwarding table), and otherwise flooded (until fabric forwarding knows the way).
 * Pure: no I/O.
 */
public final class StatelessRenderer {
  /** The reserved port ALL: every port but the one the packet came in on. */
  public static final long OFPP_ALL = 0xfffffffcL;
  static final int NEIGHBOUR = StatelessPolicy.NEIGHBOUR;
  /** LLDP (topology discovery), above everything. */
  public static final int LLDP = 1100;
  public static final int ETH_LLDP = 0x88cc;
  /** Send the whole packet (OFPCML_NO_BUFFER). */
  static final int WHOLE_PACKET = 0xffff;
  /** Bytes of an ARP or neighbour discovery packet host tracking reads: Ethernet, IPv6, ICMPv6 and one option. */
  public static final int HOST_TRACKING_LEN = 128;
  static final int KNOWN_MAC = 100;
  static final int FLOOD = 1;

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
    boolean single = classifier == forwarding;
    boolean tcpFlags = policy.matchFields().contains(Field.TCP_FLAGS);
    List<StatelessPolicy.Decision> decisions = StatelessPolicy.compile(index, dpid, round, legacyIsolation, new Inputs(),
        tcpFlags);
    List<Flow> out = new ArrayList<>(profile.missFlows(round));
    Cookie base = Cookie.of(Cookie.Category.BASE, round, 0xfff0);
    List<Action> flood = List.of(new Action.Output(OFPP_ALL));
    List<Action> forward = single ? flood : List.of(new Action.GotoTable(forwarding.id()));
    // LLDP goes to the controller whole (topology discovery) and no further
    out.add(new Flow(classifier.id(), LLDP, Match.builder().exact(Field.ETH_TYPE, ETH_LLDP).build(),
        List.of(new Action.Controller(WHOLE_PACKET)), base));
    // not governed by NetworkPolicy: ARP and IPv6 neighbour discovery, forwarded, and a copy of ARP and of neighbour
    // solicitations and advertisements to the controller (host tracking)
    List<Action> copyAndForward = new ArrayList<>();
    copyAndForward.add(new Action.Controller(HOST_TRACKING_LEN));
    copyAndForward.addAll(forward);
    out.add(new Flow(classifier.id(), NEIGHBOUR, Match.builder().arp().build(), copyAndForward, base));
    for (int type = 133; type <= 137; type++) {
      out.add(new Flow(policy.id(), NEIGHBOUR, Match.builder().ipv6().exact(Field.IP_PROTO, 58)
          .exact(Field.ICMPV6_TYPE, type).build(), type == 135 || type == 136 ? copyAndForward : forward, base));
    }
    for (StatelessPolicy.Decision d : decisions) {
      List<Action> actions = !d.allow() ? List.of()
          : !single ? forward : d.hairpin() ? List.<Action>of(new Action.InPort())
          : List.<Action>of(new Action.Output(d.destinationPort() >= 0 ? d.destinationPort() : OFPP_ALL));
      out.add(new Flow(policy.id(), d.priority(), d.match(), actions, d.cookie()));
    }
    // forwarding: the MACs of this switch's pods to their ports, anything else flooded
    if (!single) {
      for (PortBinding b : index.bindingsOn(dpid)) {
        Pod p = index.snapshot().pods().get(b.pod());
        if (p != null && b.mac() != null && b.mac().matches("(?i)([0-9a-f]{2}:){5}[0-9a-f]{2}")) {
          out.add(new Flow(forwarding.id(), KNOWN_MAC, Match.builder().exact(Field.ETH_DST,
              Long.parseLong(b.mac().replace(":", ""), 16)).build(), List.of(new Action.Output(b.ofport())), base));
        }
      }
    }
    out.add(new Flow(forwarding.id(), FLOOD, Match.ALL, flood, base));
    out.forEach(profile::check);
    return DesiredTables.of(dpid, index.snapshot().generation(), out);
  }
}
