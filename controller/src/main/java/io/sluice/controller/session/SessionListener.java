package io.sluice.controller.session;

/** Told about a session's life. Called on the session's event loop: do not block. */
public interface SessionListener {
  /** The handshake finished: dpid, version and ports are known. */
  void active(SwitchSession session);

  /** A port was added, changed or deleted. */
  default void portChanged(SwitchSession session, SwitchPort port, boolean deleted) { }

  /**
   * A PACKET_IN arrived (raw frame, header included: OVS puts fields in its match that OpenFlowJ cannot read). The
   * frame is released after the call: copy what is needed.
   */
  default void packetIn(SwitchSession session, io.netty.buffer.ByteBuf frame) { }

  /** The connection is gone (closed by either side, or the switch stopped answering). */
  void closed(SwitchSession session, String reason);
}
