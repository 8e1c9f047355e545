package io.sluice.renderer.flow;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Everything one switch should hold at one generation, keyed by flow identity. */
public final class DesiredTables {
  private final long dpid;
  private final long generation;
  private final Map<FlowKey, Flow> flows;

  private DesiredTables(long dpid, long generation, Map<FlowKey, Flow> flows) {
    this.dpid = dpid;
    this.generation = generation;
    this.flows = Collections.unmodifiableMap(flows);
  }

  /** Builds from flows; two flows with the same table, priority and match are an error. */
  public static DesiredTables of(long dpid, long generation, Collection<Flow> flows) {
    Map<FlowKey, Flow> m = new LinkedHashMap<>(Math.max(16, flows.size() * 4 / 3 + 1));
    for (Flow f : flows) {
      Flow old = m.put(f.key(), f);
      if (old != null && !old.equals(f)) {
        throw new IllegalArgumentException("two flows share table, priority and match:\n" + old + "\n" + f);
      }
    }
    return new DesiredTables(dpid, generation, m);
  }

  /** The same flows, stamped with a later generation (a switch whose tables a model change did not touch). */
  public DesiredTables atGeneration(long g) {
    return g == generation ? this : new DesiredTables(dpid, g, flows);
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

  public int size() {
    return flows.size();
  }
}
