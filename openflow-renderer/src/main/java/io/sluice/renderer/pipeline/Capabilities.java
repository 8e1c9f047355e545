package io.sluice.renderer.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a kind of switch can do besides matching standard fields in its tables, as its profile declares it. The
 * renderer refuses any flow that needs what the profile lacks, and a feature (NetworkPolicy, Services, the audit log)
 * that needs it is either given a reduced form or refused for that switch with the capabilities it misses.
 *
 * @param conntrack   connection tracking ({@code ct}, {@code ct_state}, {@code ct_mark}, NAT): OVS
 * @param conjunction conjunctive matches ({@code conjunction()}, {@code conj_id}): OVS
 * @param nicira      Nicira extension actions and registers (resubmit, reg load/move, learn, ct_clear): OVS
 * @param meters      OpenFlow meters
 * @param bundles     OpenFlow bundles (atomic changes)
 * @param groupTypes  the group types the switch takes ({@code all}, {@code select}, {@code indirect},
 *                    {@code fast_failover})
 */
public record Capabilities(boolean conntrack, boolean conjunction, boolean nicira, boolean meters, boolean bundles,
                           Set<String> groupTypes) {
  public static final Set<String> GROUP_TYPES = Set.of("all", "select", "indirect", "fast_failover");

  public Capabilities {
    groupTypes = Set.copyOf(groupTypes);
    for (String t : groupTypes) {
      if (!GROUP_TYPES.contains(t)) {
        throw new IllegalArgumentException("group type " + t + ": expected one of " + new java.util.TreeSet<>(GROUP_TYPES));
      }
    }
  }

  /** Everything Open vSwitch offers. */
  public static final Capabilities OVS = new Capabilities(true, true, true, true, true, GROUP_TYPES);

  /** What a feature needs, for {@link #missing}. */
  public enum Feature {
    /** Stateful NetworkPolicy as the ovs pipeline compiles it (conntrack commits, conjunctive rules). */
    NETWORK_POLICY,
    /** Services (select groups with ct NAT, affinity with learn, rejects through meters). */
    SERVICES,
    /** The audit log (meters; allowed connections need registers). */
    AUDIT_LOG;

    public String text() {
      return name().toLowerCase(Locale.ROOT).replace('_', ' ');
    }
  }

  /** The capabilities a feature needs that this switch lacks (empty: it can carry it). */
  public List<String> missing(Feature f) {
    List<String> out = new ArrayList<>();
    switch (f) {
      case NETWORK_POLICY -> {
        need(out, conntrack, "conntrack");
        need(out, conjunction, "conjunction");
      }
      case SERVICES -> {
        need(out, conntrack, "conntrack");
        need(out, nicira, "nicira");
        need(out, groupTypes.contains("select"), "select groups");
        need(out, meters, "meters");
      }
      case AUDIT_LOG -> {
        need(out, meters, "meters");
        need(out, nicira, "nicira");
      }
      default -> throw new IllegalStateException(f.toString());
    }
    return out;
  }

  private static void need(List<String> out, boolean have, String what) {
    if (!have) {
      out.add(what);
    }
  }
}
