package io.sluice.controller.sync;

/** What the sync layer reports for /metrics. */
public interface SyncMetrics {
  SyncMetrics NONE = new SyncMetrics() { };

  default void switchConnected(String dpid, boolean connected, int connectedCount) { }

  default void pushed(String dpid, int mods, double seconds, boolean ok, int flowCount, long realizedGeneration) { }

  default void generation(long g) { }

  /** Conntrack flushes of backends gone from a switch's Services: how many were sent, and whether the switch took them. */
  default void conntrackFlushed(String dpid, int flushes, boolean ok) { }
}
