package io.sluice.controller.sync;

/** What the sync layer reports for /metrics. */
public interface SyncMetrics {
  SyncMetrics NONE = new SyncMetrics() { };

  default void switchConnected(String dpid, boolean connected, int connectedCount) { }

  default void pushed(String dpid, int mods, double seconds, boolean ok, int flowCount, long realizedGeneration) { }

  default void generation(long g) { }
}
