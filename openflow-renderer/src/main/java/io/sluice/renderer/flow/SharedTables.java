package io.sluice.renderer.flow;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Flows and groups that many switches hold alike (a generation's Service tables), keyed and checked once, so each
 * switch's {@link DesiredTables} refers to them instead of copying them: at 10,000 Services, 1,000 switches would
 * otherwise each build the same maps of a hundred thousand flows. Also carries the UDP and SCTP backends those groups
 * DNAT to ({@link #natBackends()}), switch-independent like the groups.
 */
public final class SharedTables {
  public static final SharedTables EMPTY = new SharedTables(Map.of(), Map.of(), Map.of(), Set.of());

  private final Map<FlowKey, Flow> flows;
  private final Map<Long, Group> groups;
  private final Map<Long, Meter> meters;
  private final Set<NatBackend> natBackends;

  private SharedTables(Map<FlowKey, Flow> flows, Map<Long, Group> groups, Map<Long, Meter> meters,
                       Set<NatBackend> natBackends) {
    this.flows = flows;
    this.groups = groups;
    this.meters = meters;
    this.natBackends = natBackends;
  }

  /**
   * Keys the flows, groups and meters; two flows with one identity or two groups or meters with one id are an error,
   * as is a flow or bucket that uses a group or meter not among them.
   */
  public static SharedTables of(Collection<Flow> flows, Collection<Group> groups, Collection<Meter> meters) {
    return of(flows, groups, meters, Set.of());
  }

  /**
   * As {@link #of(Collection, Collection, Collection)}, with the UDP and SCTP backends the groups DNAT new
   * connections to.
   */
  public static SharedTables of(Collection<Flow> flows, Collection<Group> groups, Collection<Meter> meters,
                                Collection<NatBackend> natBackends) {
    if (flows.isEmpty() && groups.isEmpty() && meters.isEmpty() && natBackends.isEmpty()) {
      return EMPTY;
    }
    Map<FlowKey, Flow> f = new LinkedHashMap<>(Math.max(16, flows.size() * 4 / 3 + 1));
    for (Flow x : flows) {
      Flow old = f.put(x.key(), x);
      if (old != null && !old.equals(x)) {
        throw new IllegalArgumentException("two shared flows share table, priority and match:\n" + old + "\n" + x);
      }
    }
    Map<Long, Group> g = new TreeMap<>();
    for (Group x : groups) {
      Group old = g.put(x.id(), x);
      if (old != null && !old.equals(x)) {
        throw new IllegalArgumentException("two groups share id " + x.id() + ":\n" + old + "\n" + x);
      }
    }
    Map<Long, Meter> mt = new TreeMap<>();
    for (Meter x : meters) {
      Meter old = mt.put(x.id(), x);
      if (old != null && !old.equals(x)) {
        throw new IllegalArgumentException("two meters share id " + x.id() + ": " + old + " / " + x);
      }
    }
    for (Flow x : f.values()) {
      DesiredTables.checkRefs(x.actions(), g, mt, x);
    }
    for (Group x : g.values()) {
      for (Group.Bucket b : x.buckets()) {
        DesiredTables.checkRefs(b.actions(), g, mt, x);
      }
    }
    return new SharedTables(Collections.unmodifiableMap(f), Collections.unmodifiableMap(g),
        Collections.unmodifiableMap(mt), Collections.unmodifiableSet(new TreeSet<>(natBackends)));
  }

  /**
   * Tables its caller keeps keyed itself from one generation to the next (persistent maps updated entry by entry),
   * so nothing is copied: each flow is under its own {@link Flow#key()}, each group and meter under its id (the
   * caller's invariant). Checked here: what {@code newFlows} and {@code newGroups} (the entries added since the
   * caller's last tables) use is among them. The maps are taken as they are; they must not change afterwards.
   */
  public static SharedTables keyed(Map<FlowKey, Flow> flows, Map<Long, Group> groups, Map<Long, Meter> meters,
                                   Set<NatBackend> natBackends, Collection<Flow> newFlows, Collection<Group> newGroups) {
    if (flows.isEmpty() && groups.isEmpty() && meters.isEmpty() && natBackends.isEmpty()) {
      return EMPTY;
    }
    for (Flow x : newFlows) {
      DesiredTables.checkRefs(x.actions(), groups, meters, x);
    }
    for (Group x : newGroups) {
      for (Group.Bucket b : x.buckets()) {
        DesiredTables.checkRefs(b.actions(), groups, meters, x);
      }
    }
    // persistent maps are immutable as they are, and stay diffable (DesiredTables#changedFlowsSince)
    return new SharedTables(readOnly(flows), readOnly(groups), readOnly(meters), Collections.unmodifiableSet(natBackends));
  }

  private static <K, V> Map<K, V> readOnly(Map<K, V> m) {
    return m instanceof io.sluice.model.PersistentMap<K, V> ? m : Collections.unmodifiableMap(m);
  }

  public Map<FlowKey, Flow> flows() {
    return flows;
  }

  public Map<Long, Group> groups() {
    return groups;
  }

  public Map<Long, Meter> meters() {
    return meters;
  }

  /** The UDP and SCTP backends the shared groups DNAT new connections to, in {@link NatBackend} order. */
  public Set<NatBackend> natBackends() {
    return natBackends;
  }

  /** The shared flows as a list (for callers that want them all). */
  public List<Flow> flowList() {
    return List.copyOf(flows.values());
  }
}
