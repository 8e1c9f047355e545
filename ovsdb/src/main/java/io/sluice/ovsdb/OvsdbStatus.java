package io.sluice.ovsdb;

import java.time.Instant;

/**
 * One connection's state for /readyz and /api: {@code name} is the endpoint (or, for a server that connected to a
 * listener, {@code ptcp:PORT peer HOST:PORT}), {@code systemId} the node's {@code external_ids:system-id} once
 * known, {@code lastError} the last failure ("" if none), {@code interfaces} the cached Interface rows and
 * {@code bindings} the pods this server binds.
 */
public record OvsdbStatus(String name, State state, Instant since, String systemId, String lastError,
    int interfaces, int bindings, long reconnects) {
  public enum State {
    /** Dialling, or waiting (backoff) before dialling again. */
    CONNECTING,
    /** Connected; reading the schema and the initial monitor reply. */
    SYNCING,
    /** The cache follows the server. */
    SYNCED,
    /** A passive endpoint accepting connections. */
    LISTENING,
    /** Stopped by close(), or a passive peer that went away. */
    CLOSED,
    /** Could not even start (e.g. the listen port is taken); see lastError. */
    FAILED
  }

  public boolean synced() {
    return state == State.SYNCED;
  }
}
