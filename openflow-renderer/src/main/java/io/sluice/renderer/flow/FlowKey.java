package io.sluice.renderer.flow;

import java.util.Objects;

/** What identifies a flow in a switch: table, priority and match (OpenFlow's strict identity). */
public record FlowKey(int table, int priority, Match match) {
  public FlowKey {
    Objects.requireNonNull(match, "match");
    if (table < 0 || table > 254) {
      throw new IllegalArgumentException("table out of range: " + table);
    }
    if (priority < 0 || priority > 0xffff) {
      throw new IllegalArgumentException("priority out of range: " + priority);
    }
  }
}
