package io.sluice.controller.session;

import org.projectfloodlight.openflow.types.DatapathId;

/**
 * Which switches may connect, decided once the features reply has named the datapath. Called on the session's event
 * loop: do not block.
 */
@FunctionalInterface
public interface Admission {
  /** Every switch. */
  Admission ALL = (dpid, certificateName) -> null;

  /**
   * Null to admit the switch; otherwise why it is refused (logged, and the connection closed).
   *
   * @param certificateName the CN of the certificate the peer presented over TLS, or null on a plain connection
   */
  String refusal(DatapathId dpid, String certificateName);
}
