package io.sluice.renderer.flow;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Everything one switch should hold at one generation: flows keyed by identity (table, priority, match), groups and
 * meters keyed by id. Every group and meter a flow or bucket uses is here too (checked when built), so sync can
 * order a change safely: groups and meters before the flows that use them, flows removed before the groups they used.
 * Besides the tables, the UDP and SCTP backends the switch's Service groups DNAT to ({@link #natBackends()}): state
 * sync compares with what it last realized, to clear the conntrack entries of backends that are gone.
 */
public final class DesiredTables {
  private final long dpid;
  private final long generation;
  private final Map<FlowKey, Flow> flows;
  private final Map<Long, Group> groups;
  private final Map<Long, Meter> meters;
  private final Set<NatBackend> natBackends;

  private DesiredTables(long dpid, long generation, Map<FlowKey, Flow> flows, Map<Long, Group> groups,
                        Map<Long, Meter> meters, Set<NatBackend> natBackends) {
    this.dpid = dpid;
    this.generation = generation;
    this.flows = flows;
    this.groups = groups;
    this.meters = meters;
    this.natBackends = natBackends;
  }

  /** Builds from flows alone; two flows with the same table, priority and match are an error. */
  public static DesiredTables of(long dpid, long generation, Collection<Flow> flows) {
    return of(dpid, generation, flows, List.of(), List.of());
  }

  /**
   * Builds from flows, groups and meters. Two flows with the same table, priority and match, two different groups or
   * meters with one id, or a flow or bucket naming a group or meter that is not here, are errors.
   */
  public static DesiredTables of(long dpid, long generation, Collection<Flow> flows, Collection<Group> groups,
                                 Collection<Meter> meters) {
    Map<FlowKey, Flow> m = new LinkedHashMap<>(Math.max(16, flows.size() * 4 / 3 + 1));
    for (Flow f : flows) {
      Flow old = m.put(f.key(), f);
      if (old != null && !old.equals(f)) {
        throw new IllegalArgumentException("two flows share table, priority and match:\n" + old + "\n" + f);
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
    for (Flow f : m.values()) {
      checkRefs(f.actions(), g, mt, f);
    }
    for (Group x : g.values()) {
      for (Group.Bucket b : x.buckets()) {
        checkRefs(b.actions(), g, mt, x);
      }
    }
    return new DesiredTables(dpid, generation, Collections.unmodifiableMap(m), Collections.unmodifiableMap(g),
        Collections.unmodifiableMap(mt), Set.of());
  }

  static void checkRefs(List<Action> actions, Map<Long, Group> groups, Map<Long, Meter> meters, Object user) {
    for (Action a : actions) {
      if (a instanceof Action.Group r && !groups.containsKey(r.groupId())) {
        throw new IllegalArgumentException("group " + r.groupId() + " is used but not desired: " + user);
      }
      if (a instanceof Action.Meter r && !meters.containsKey(r.meterId())) {
        throw new IllegalArgumentException("meter " + r.meterId() + " is used but not desired: " + user);
      }
    }
  }

  /**
   * Builds from this switch's own flows, groups and meters plus tables shared with other switches (referred to, not
   * copied). The switch's own flows may not have the identity of a shared flow, nor its groups the id of a shared
   * group; its flows may use shared groups. The shared tables' {@linkplain SharedTables#natBackends() backends} are
   * this switch's.
   */
  public static DesiredTables of(long dpid, long generation, Collection<Flow> own, SharedTables shared) {
    return of(dpid, generation, own, List.of(), shared);
  }

  /** As {@link #of(long, long, Collection, SharedTables)}, with meters of the switch's own besides the shared ones. */
  public static DesiredTables of(long dpid, long generation, Collection<Flow> own, Collection<Meter> ownMeters,
                                 SharedTables shared) {
    if (shared.flows().isEmpty() && shared.groups().isEmpty() && shared.meters().isEmpty()
        && shared.natBackends().isEmpty()) {
      return of(dpid, generation, own, List.of(), ownMeters);
    }
    Map<Long, Meter> meters = shared.meters();
    if (!ownMeters.isEmpty()) {
      Map<Long, Meter> mt = new TreeMap<>(shared.meters());
      for (Meter x : ownMeters) {
        Meter old = mt.put(x.id(), x);
        if (old != null && !old.equals(x)) {
          throw new IllegalArgumentException("two meters share id " + x.id() + ": " + old + " / " + x);
        }
      }
      meters = Collections.unmodifiableMap(mt);
    }
    Map<FlowKey, Flow> m = new LinkedHashMap<>(Math.max(16, own.size() * 4 / 3 + 1));
    for (Flow f : own) {
      Flow old = m.put(f.key(), f);
      if (old != null && !old.equals(f) || shared.flows().containsKey(f.key())) {
        throw new IllegalArgumentException("two flows share table, priority and match:\n"
            + (old != null ? old : shared.flows().get(f.key())) + "\n" + f);
      }
      checkRefs(f.actions(), shared.groups(), meters, f);
    }
    return new DesiredTables(dpid, generation, new UnionMap<>(Collections.unmodifiableMap(m), shared.flows()),
        shared.groups(), meters, shared.natBackends());
  }

  /** The same tables, stamped with a later generation (a switch whose tables a model change did not touch). */
  public DesiredTables atGeneration(long g) {
    return g == generation ? this : new DesiredTables(dpid, g, flows, groups, meters, natBackends);
  }

  /** The same groups, meters and backends with other flows (e.g. without those of rules the switch refused). */
  public DesiredTables withFlows(Collection<Flow> kept) {
    DesiredTables t = of(dpid, generation, kept, groups.values(), meters.values());
    return new DesiredTables(dpid, generation, t.flows, t.groups, t.meters, natBackends);
  }

  public long dpid() {
    return dpid;
  }

  public long generation() {
    return generation;
  }

  public Map<FlowKey, Flow> flows() {
    return flows;
  }

  /** Groups by id, in id order. */
  public Map<Long, Group> groups() {
    return groups;
  }

  /** Meters by id, in id order. */
  public Map<Long, Meter> meters() {
    return meters;
  }

  /**
   * The UDP and SCTP backends (address, target port, protocol) this switch's Service groups DNAT new connections to,
   * in {@link NatBackend} order. Empty when built without shared tables.
   */
  public Set<NatBackend> natBackends() {
    return natBackends;
  }

  /**
   * The identities of the flows that differ between {@code before} and these tables (added, removed or changed), when
   * both were built from shared tables kept as persistent maps: the shared parts are diffed where they do not share
   * structure, the switch's own flows entry by entry; costs about the change, not the tables' size. Null when the
   * tables cannot be diffed this way or differ in more than {@code limit} flows: the caller compares them whole.
   */
  public java.util.Set<FlowKey> changedFlowsSince(DesiredTables before, int limit) {
    if (!(flows instanceof UnionMap<FlowKey, Flow> now) || !(before.flows instanceof UnionMap<FlowKey, Flow> then)
        || !(now.second() instanceof io.sluice.model.PersistentMap<FlowKey, Flow> sharedNow)
        || !(then.second() instanceof io.sluice.model.PersistentMap<FlowKey, Flow> sharedThen)) {
      return null;
    }
    java.util.Set<FlowKey> out = new java.util.LinkedHashSet<>();
    if (now.first() != then.first()) {
      for (Map.Entry<FlowKey, Flow> e : now.first().entrySet()) {
        if (!e.getValue().equals(then.get(e.getKey()))) {
          out.add(e.getKey());
        }
      }
      for (Map.Entry<FlowKey, Flow> e : then.first().entrySet()) {
        if (!now.first().containsKey(e.getKey()) && !e.getValue().equals(now.get(e.getKey()))) {
          out.add(e.getKey());
        }
      }
      if (out.size() > limit) {
        return null;
      }
    }
    boolean complete = io.sluice.model.PersistentMap.diff(sharedThen, sharedNow, limit - out.size(), (k, o, n) -> {
      Flow a = then.get(k);
      Flow b = now.get(k);
      if (a == null ? b != null : !a.equals(b)) {
        out.add(k);
      }
    });
    return complete && out.size() <= limit ? out : null;
  }

  /** The number of flows. */
  public int size() {
    return flows.size();
  }
}
