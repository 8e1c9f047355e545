package io.sluice.controller.runtime;

import java.net.InetSocketAddress;
import java.time.Duration;

/** Everything {@code sluice run} was told. */
public record RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                            long roleGenerationId, int workers, java.nio.file.Path manifests) {
  /** Without a manifest directory. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, null);
  }

  /** OpenFlow controller role to request from switches. */
  public enum Role { EQUAL, MASTER, SLAVE }
}
