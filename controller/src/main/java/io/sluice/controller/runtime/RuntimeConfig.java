package io.sluice.controller.runtime;

import java.net.InetSocketAddress;
import java.time.Duration;

/** Everything {@code sluice run} was told. */
public record RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                            long roleGenerationId, int workers) {
  /** OpenFlow controller role to request from switches. */
  public enum Role { EQUAL, MASTER, SLAVE }
}
