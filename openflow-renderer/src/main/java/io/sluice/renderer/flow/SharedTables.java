package io.sluice.renderer.flow;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Flows and groups that many switches hold alike (a generation's Service tables), keyed and checked once, so each
 * switch's {@link DesiredTables} refers to them instead of copying them: at 10,000 Services, 1,000 switches would
 * otherwise each build the same maps of a hundred thousand flows.
 */
public final class SharedTables {
  public static final SharedTables EMPTY = new SharedTables(Map.of(), Map.of());

  private final Map<FlowKey, Flow> flows;
  private final Map<Long, Group> groups;

  private SharedTables(Map<FlowKey, Flow> flows, Map<Long, Group> groups) {
    this.flows = flows;
    this.groups = groups;
  }

  /**
   * Keys the flows and groups; two flows with one identity or two groups with one id are an error, as is a flow or
   * bucket that uses a group not among them (shared flows may not use meters).
   */
  public static SharedTables of(Collection<Flow> flows, Collection<Group> groups) {
    if (flows.isEmpty() && groups.isEmpty()) {
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
    for (Flow x : f.values()) {
      DesiredTables.checkRefs(x.actions(), g, Map.of(), x);
    }
    for (Group x : g.values()) {
      for (Group.Bucket b : x.buckets()) {
        DesiredTables.checkRefs(b.actions(), g, Map.of(), x);
      }
    }
    return new SharedTables(Collections.unmodifiableMap(f), Collections.unmodifiableMap(g));
  }

  public Map<FlowKey, Flow> flows() {
    return flows;
  }

  public Map<Long, Group> groups() {
    return groups;
  }

  /** The shared flows as a list (for callers that want them all). */
  public List<Flow> flowList() {
    return List.copyOf(flows.values());
  }
}
