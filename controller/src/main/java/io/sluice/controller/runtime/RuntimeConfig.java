package io.sluice.controller.runtime;

import java.net.InetSocketAddress;
import java.time.Duration;

/** Everything {@code sluice run} was told. */
public record RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                            long roleGenerationId, int workers, java.nio.file.Path manifests,
                            java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation,
                            Kubernetes kubernetes, io.sluice.controller.ha.Leadership.Settings leaderElection,
                            Bounds bounds, Security security, boolean metricsPerRule,
                            io.sluice.controller.audit.AuditLog.Options audit,
                            io.sluice.controller.profile.ProfileChoice profiles,
                            io.sluice.controller.fabric.FabricDiscovery.Options fabric) {
  public RuntimeConfig {
    if (fabric == null) {
      fabric = io.sluice.controller.fabric.FabricDiscovery.Options.defaults();
    }
    java.util.Objects.requireNonNull(profiles, "profiles");
    java.util.Objects.requireNonNull(audit, "audit");
    ovsdb = java.util.List.copyOf(ovsdb);
    java.util.Objects.requireNonNull(bounds, "bounds");
    java.util.Objects.requireNonNull(security, "security");
    if (leaderElection != null && kubernetes == null) {
      throw new IllegalArgumentException("--leader-elect needs --kubeconfig or --in-cluster: the Leases live in the "
          + "cluster");
    }
    if (leaderElection != null && role != Role.EQUAL) {
      throw new IllegalArgumentException("--leader-elect and --role are exclusive: the elected leader asks for MASTER, "
          + "the others for SLAVE");
    }
    if (kubernetes != null && manifests != null) {
      throw new IllegalArgumentException("--kubeconfig/--in-cluster and --manifests are exclusive: intent comes either "
          + "from a cluster's API server or from a manifest directory");
    }
  }

  /** With the fabric discovery defaults. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests,
                       java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation,
                       Kubernetes kubernetes, io.sluice.controller.ha.Leadership.Settings leaderElection,
                       Bounds bounds, Security security, boolean metricsPerRule,
                       io.sluice.controller.audit.AuditLog.Options audit,
                       io.sluice.controller.profile.ProfileChoice profiles) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation,
        kubernetes, leaderElection, bounds, security, metricsPerRule, audit, profiles, null);
  }

  /** Without the per-rule policy metrics, and the audit log with its defaults (no file). */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests,
                       java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation,
                       Kubernetes kubernetes, io.sluice.controller.ha.Leadership.Settings leaderElection,
                       Bounds bounds, Security security) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation,
        kubernetes, leaderElection, bounds, security, false, io.sluice.controller.audit.AuditLog.Options.defaults(null),
        io.sluice.controller.profile.ProfileChoice.ovsEverywhere());
  }

  /** Without TLS or a switch allow-list. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests,
                       java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation,
                       Kubernetes kubernetes, io.sluice.controller.ha.Leadership.Settings leaderElection,
                       Bounds bounds) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation,
        kubernetes, leaderElection, bounds, Security.NONE);
  }

  /** With the default bounds. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests,
                       java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation,
                       Kubernetes kubernetes, io.sluice.controller.ha.Leadership.Settings leaderElection) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation,
        kubernetes, leaderElection, Bounds.defaults());
  }

  /** Without leader election. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests,
                       java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation,
                       Kubernetes kubernetes) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation,
        kubernetes, null);
  }

  /** Without a Kubernetes API server. */
  public RuntimeConfig(InetSocketAddress openflow, InetSocketAddress http, Duration echoInterval, Role role,
                       long roleGenerationId, int workers, java.nio.file.Path manifests,
                       java.util.List<String> ovsdb, String ovsdbListen, boolean legacyIsolation) {
    this(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation,
        null, null);
  }

  /** A copy with other bounds. */
  public RuntimeConfig withBounds(Bounds b) {
    return new RuntimeConfig(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen,
        legacyIsolation, kubernetes, leaderElection, b, security, metricsPerRule, audit, profiles, fabric);
  }

  /** A copy with other TLS and allow-list settings. */
  public RuntimeConfig withSecurity(Security s) {
    return new RuntimeConfig(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen,
        legacyIsolation, kubernetes, leaderElection, bounds, s, metricsPerRule, audit, profiles, fabric);
  }

  /** A copy with another choice of pipeline profiles per switch. */
  public RuntimeConfig withProfiles(io.sluice.controller.profile.ProfileChoice p) {
    return new RuntimeConfig(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen,
        legacyIsolation, kubernetes, leaderElection, bounds, security, metricsPerRule, audit, p, fabric);
  }

  /** A copy with other fabric discovery settings ({@code --lldp-interval}, {@code --host-timeout}). */
  public RuntimeConfig withFabric(io.sluice.controller.fabric.FabricDiscovery.Options f) {
    return new RuntimeConfig(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen,
        legacyIsolation, kubernetes, leaderElection, bounds, security, metricsPerRule, audit, profiles, f);
  }

  /** A copy with other audit log settings. */
  public RuntimeConfig withAudit(io.sluice.controller.audit.AuditLog.Options a) {
    return new RuntimeConfig(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen,
        legacyIsolation, kubernetes, leaderElection, bounds, security, metricsPerRule, a, profiles, fabric);
  }

  /** A copy with or without the per-rule policy metrics ({@code --metrics-per-rule}). */
  public RuntimeConfig withMetricsPerRule(boolean perRule) {
    return new RuntimeConfig(openflow, http, echoInterval, role, roleGenerationId, workers, manifests, ovsdb, ovsdbListen,
        legacyIsolation, kubernetes, leaderElection, bounds, security, perRule, audit, profiles, fabric);
  }

  /**
   * Who may connect: {@code tls} the key, certificate and CA certificate both protocols use (null: none given),
   * {@code openflowTls} whether the OpenFlow listener speaks TLS ({@code --listen pssl:}), {@code switches} the
   * datapath ids (and certificate names) admitted, or null for any; {@code ovsdbNodes} the OVSDB system-ids (and
   * certificate names) served, or null for any.
   */
  public record Security(io.sluice.controller.tls.TlsFiles tls, boolean openflowTls,
                         io.sluice.controller.session.SwitchAllowList switches,
                         io.sluice.ovsdb.OvsdbNodeAllowList ovsdbNodes, String httpToken) {
    public static final Security NONE = new Security(null, false, null, null, null);

    /** Without a token for the status API. */
    public Security(io.sluice.controller.tls.TlsFiles tls, boolean openflowTls,
                    io.sluice.controller.session.SwitchAllowList switches,
                    io.sluice.ovsdb.OvsdbNodeAllowList ovsdbNodes) {
      this(tls, openflowTls, switches, ovsdbNodes, null);
    }

    /** The same with the status API's bearer token ({@code --http-token-file}), or none. */
    public Security withHttpToken(String token) {
      return new Security(tls, openflowTls, switches, ovsdbNodes, token);
    }

    /** Without an OVSDB system-id list. */
    public Security(io.sluice.controller.tls.TlsFiles tls, boolean openflowTls,
                    io.sluice.controller.session.SwitchAllowList switches) {
      this(tls, openflowTls, switches, null);
    }

    public Security {
      if (httpToken != null && httpToken.isBlank()) {
        throw new IllegalArgumentException("--http-token-file: the token is empty");
      }
      if (openflowTls && tls == null) {
        throw new IllegalArgumentException("--listen pssl: needs --private-key, --certificate and --ca-cert");
      }
    }
  }

  /**
   * What one peer may cost: connections in all and per remote address, how long a peer may leave what Sluice writes
   * untaken, and how large and slow one reply may be.
   */
  public record Bounds(int maxSwitches, int maxPerAddress, Duration writeStallTimeout, long replyMaxBytes,
                       Duration replyTimeout, long maxManifestBytes, int ovsdbMaxMessageBytes, int ovsdbMaxPeers) {
    public Bounds {
      if (ovsdbMaxPeers < 1) {
        throw new IllegalArgumentException("--ovsdb-max-peers: must be at least 1, got " + ovsdbMaxPeers);
      }
      if (ovsdbMaxMessageBytes < 65_536) {
        throw new IllegalArgumentException("--ovsdb-max-message-bytes: must be at least 65536 (64 KiB), got "
            + ovsdbMaxMessageBytes);
      }
      if (maxManifestBytes < 1) {
        throw new IllegalArgumentException("--max-manifest-bytes must be at least 1, got " + maxManifestBytes);
      }
      new io.sluice.controller.session.SessionConfig(Duration.ofSeconds(1), Duration.ofSeconds(10), writeStallTimeout,
          replyMaxBytes, replyTimeout); // checks them
      io.sluice.controller.session.OpenFlowServer.Limits.defaults().withConnections(maxSwitches, maxPerAddress);
    }

    public static Bounds defaults() {
      var l = io.sluice.controller.session.OpenFlowServer.Limits.defaults();
      return new Bounds(l.maxSwitches(), l.maxPerAddress(),
          io.sluice.controller.session.SessionConfig.DEFAULT_WRITE_STALL,
          io.sluice.controller.session.SessionConfig.DEFAULT_REPLY_MAX_BYTES,
          io.sluice.controller.session.SessionConfig.DEFAULT_REPLY_TIMEOUT,
          io.sluice.watcher.manifest.ManifestSource.Limits.DEFAULT_MAX_FILE_BYTES,
          io.sluice.ovsdb.OvsdbSource.Options.DEFAULT_MAX_FRAME_BYTES,
          io.sluice.ovsdb.OvsdbSource.Options.DEFAULT_MAX_PEERS);
    }

    /** The OpenFlow bounds given, the default manifest file size limit. */
    public Bounds(int maxSwitches, int maxPerAddress, Duration writeStallTimeout, long replyMaxBytes,
                  Duration replyTimeout) {
      this(maxSwitches, maxPerAddress, writeStallTimeout, replyMaxBytes, replyTimeout,
          io.sluice.watcher.manifest.ManifestSource.Limits.DEFAULT_MAX_FILE_BYTES,
          io.sluice.ovsdb.OvsdbSource.Options.DEFAULT_MAX_FRAME_BYTES,
          io.sluice.ovsdb.OvsdbSource.Options.DEFAULT_MAX_PEERS);
    }
  }

  /**
   * Intent from a Kubernetes API server: through {@code kubeconfig}, or (null) the pod's service account when Sluice
   * runs in the cluster.
   */
  public record Kubernetes(java.nio.file.Path kubeconfig) {
    public String describe() {
      return kubeconfig == null ? "in-cluster service account" : "kubeconfig " + kubeconfig;
    }
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
