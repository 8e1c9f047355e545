package io.sluice.renderer.pipeline;

import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
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
  /** Table ids of the {@code ovs} profile. */
  public static final int CLASSIFIER = 0;
  public static final int L2_FORWARDING = 90;

  private final String name;
  private final Map<Integer, Table> tables = new TreeMap<>();

  private PipelineProfile(String name, List<Table> tables) {
    this.name = name;
    for (Table t : tables) {
      if (this.tables.put(t.id(), t) != null) {
        throw new IllegalArgumentException("table " + t.id() + " declared twice in profile " + name);
      }
    }
  }

  /** The default profile for Open vSwitch bridges. */
  public static PipelineProfile ovs() {
    return new PipelineProfile("ovs", List.of(
        new Table(CLASSIFIER, "Classifier", EnumSet.allOf(Field.class), L2_FORWARDING),
        new Table(L2_FORWARDING, "L2Forwarding", EnumSet.allOf(Field.class), Table.MISS_NORMAL)));
  }

  public String name() {
    return name;
  }

  public Map<Integer, Table> tables() {
    return java.util.Collections.unmodifiableMap(tables);
  }

  /** The table-miss flows of every table: what the bridge does before any policy exists. */
  public List<Flow> baseFlows(int round) {
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
    Table t = tables.get(f.table());
    if (t == null) {
      throw new IllegalArgumentException("profile " + name + " has no table " + f.table() + ": " + f);
    }
    for (Field field : f.match().fields().keySet()) {
      if (!t.matchFields().contains(field)) {
        throw new IllegalArgumentException("table " + t.name() + " of profile " + name + " may not match " + field.ofctlName() + ": " + f);
      }
    }
    for (Action a : f.actions()) {
      int next = a instanceof Action.GotoTable g ? g.table() : a instanceof Action.Resubmit r ? r.table() : -1;
      if (next >= 0 && !tables.containsKey(next)) {
        throw new IllegalArgumentException("profile " + name + " has no table " + next + " (from " + f + ")");
      }
    }
  }
}
