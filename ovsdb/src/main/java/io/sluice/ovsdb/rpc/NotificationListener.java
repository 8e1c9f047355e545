package io.sluice.ovsdb.rpc;

import com.fasterxml.jackson.databind.JsonNode;

/** What the server tells a client without being asked. Called on the connection's event loop. */
public interface NotificationListener {
  /** Table updates of a monitor: {@code kind} tells the format, {@code lastTxnId} is set for update3 only. */
  void onUpdate(JsonNode monitorId, UpdateKind kind, String lastTxnId, JsonNode updates);

  default void onLocked(String lockId) {
  }

  default void onStolen(String lockId) {
  }

  NotificationListener NONE = (id, kind, txn, updates) -> { };
}
