package io.sluice.renderer.flow;

import java.util.List;
import java.util.Objects;

/** One desired flow. An empty action list drops. */
public record Flow(int table, int priority, Match match, List<Action> actions, Cookie cookie) {
  public Flow {
    Objects.requireNonNull(match, "match");
    Objects.requireNonNull(cookie, "cookie");
    actions = List.copyOf(actions);
    new FlowKey(table, priority, match); // range checks
    for (int i = 0; i < actions.size(); i++) {
      if (actions.get(i) instanceof Action.Meter && i != 0) {
        // OpenFlow 1.3/1.4 meter a flow by an instruction that comes before its actions, and OVS refuses a meter
        // that is not the first action (and a second one) in any version
        throw new IllegalArgumentException("meter must be the first action of a flow (and only one): " + actions);
      }
      if (actions.get(i) instanceof Action.GotoTable g) {
        if (i != actions.size() - 1) {
          throw new IllegalArgumentException("goto_table must be the last action of a flow");
        }
        if (g.table() <= table) {
          throw new IllegalArgumentException("goto_table:" + g.table() + " from table " + table + " must go forward");
        }
      }
    }
  }

  public FlowKey key() {
    return new FlowKey(table, priority, match);
  }

  @Override
  public String toString() {
    return OfctlFormat.flow(this);
  }
}
