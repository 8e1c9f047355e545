package io.sluice.controller.runtime;

import java.net.InetSocketAddress;
import java.time.Duration;

/** Everything {@code sluice run} was told. */
public record RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                            long roleGenerationId, int workers, java.nio.file.Path manifests,
                            java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation) {
  public RuntimeConfig {
    ovsdb = java.util.List.copyOf(ovsdb);
  }

  /** Without a manifest directory or OVSDB. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, null, java.util.List.of(), null, false);
  }

  /** Without OVSDB. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, java.util.List.of(), null, false);
  }

  /** Without the legacy isolation annotation. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests, java.util.List<String> ovsdb,
                       String ovsdbListen) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, false);
  }

  /** OpenFlow controller role to request from switches. */
  public enum Role { EQUAL, MASTER, SLAVE }
}
