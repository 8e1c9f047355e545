package io.sluice.controller.session;

/** What sessions report for /metrics. */
public interface SessionMetrics {
  SessionMetrics NONE = new SessionMetrics() { };

  /** A message OpenFlowJ could not decode (the connection stays up). */
  default void decodeFailure(int version, int type) { }

  /** A switch was refused in the handshake: no common OpenFlow version, or its datapath id not admitted. */
  default void handshakeRefused() { }

  /** One echo round trip. */
  default void echoRtt(String dpid, double seconds) { }
}
