package io.sluice.controller.cli;

import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice run}: the controller. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run the controller: accept OpenFlow switches, keep their tables equal to the desired state,",
        "and serve the status API. Runs until interrupted (Ctrl-C); switches keep their flows meanwhile (fail-mode secure)."})
final class RunCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--listen", defaultValue = "0.0.0.0:6653", paramLabel = "HOST:PORT|ptcp:PORT[:HOST]|pssl:PORT[:HOST]",
      description = "OpenFlow listen address (default: ${DEFAULT-VALUE}); HOST:PORT and ptcp: are plain TCP, for labs "
          + "(a warning is logged when HOST is not a loopback address). pssl: speaks TLS with --private-key, "
          + "--certificate and --ca-cert; every switch must present a certificate the CA signed. Point bridges here "
          + "with ovs-vsctl set-controller BR tcp:HOST:PORT (or ssl:HOST:PORT after ovs-vsctl set-ssl).")
  String listen;

  @Option(names = "--private-key", paramLabel = "FILE",
      description = "PEM private key for TLS on both protocols (pssl: listeners, ssl: OVSDB targets), as ovs-pki "
          + "writes it (ctl-privkey.pem; PKCS#8 or PKCS#1 RSA, unencrypted). Needs --certificate and --ca-cert.")
  java.nio.file.Path privateKey;

  @Option(names = "--certificate", paramLabel = "FILE",
      description = "PEM certificate matching --private-key, signed by the CA the switches trust (ctl-cert.pem).")
  java.nio.file.Path certificate;

  @Option(names = "--ca-cert", paramLabel = "FILE",
      description = "PEM certificate of the CA that signs the switches' and OVSDB servers' certificates "
          + "(ovs-pki: switchca/cacert.pem); a peer presenting anything else is refused.")
  java.nio.file.Path caCert;

  @Option(names = "--switches", paramLabel = "FILE",
      description = "Admit only the OpenFlow switches listed in FILE: one per line, the datapath id "
          + "(00:00:00:00:00:00:d0:d1, 0xd0d1 or decimal), optionally followed by the certificate name (CN) the switch "
          + "must present over TLS; # starts a comment. Any other switch is refused after its features reply and "
          + "logged once with its address.")
  java.nio.file.Path switches;

  @Option(names = "--ovsdb-nodes", paramLabel = "FILE",
      description = "Serve only the ovsdb-servers whose external_ids:system-id is listed in FILE: one per line, "
          + "optionally followed by the certificate name (CN) the server must present over TLS (ssl:/pssl:); "
          + "# starts a comment. Any other server, one without a system-id, or one without the listed certificate "
          + "name, is refused and logged once.")
  java.nio.file.Path ovsdbNodes;

  @Option(names = "--http", defaultValue = "127.0.0.1:8181", paramLabel = "HOST:PORT",
      description = "Status API address: /healthz, /readyz, /metrics, /api/v1/realization, /api/v1/switches "
          + "(default: ${DEFAULT-VALUE}).")
  String http;

  @Option(names = "--http-token-file", paramLabel = "FILE",
      description = "Require Authorization: Bearer <the file's content> on every status API request but /healthz and "
          + "/readyz (the web view takes it once as /#token=...); without it the API is open: keep --http on loopback.")
  java.nio.file.Path httpTokenFile;

  @Option(names = "--echo-interval", defaultValue = "1s", paramLabel = "DURATION",
      description = "Echo request interval per switch, e.g. 500ms, 1s; a switch that sends nothing for 2.5 intervals "
          + "is declared gone (default: ${DEFAULT-VALUE}).")
  String echoInterval;

  @Option(names = "--lldp-interval", defaultValue = "1s", paramLabel = "DURATION",
      description = "How often LLDP goes out of every port of the switches with the stateless pipeline (topology "
          + "discovery); a link not heard for 3 intervals is down (default: ${DEFAULT-VALUE}).")
  String lldpInterval;

  @Option(names = "--host-timeout", defaultValue = "300s", paramLabel = "DURATION",
      description = "A host (not a pod) learned from ARP/neighbour discovery and not heard for this long is forgotten "
          + "(default: ${DEFAULT-VALUE}).")
  String hostTimeout;

  @Option(names = "--role", defaultValue = "EQUAL", paramLabel = "ROLE",
      description = "OpenFlow controller role requested from every switch: EQUAL (no request), MASTER or SLAVE "
          + "(default: ${DEFAULT-VALUE}).")
  RuntimeConfig.Role role;

  @Option(names = "--role-generation-id", defaultValue = "0", paramLabel = "N",
      description = "Generation id sent with MASTER/SLAVE role requests; a higher id wins over stale masters (default: ${DEFAULT-VALUE}).")
  long generationId;

  @Option(names = "--manifests", paramLabel = "DIR",
      description = "Load Namespaces, Pods, NetworkPolicies, Services and EndpointSlices from every *.yaml, *.yml and "
          + "*.json below DIR, and apply every change to DIR within a second. Invalid documents are reported "
          + "(log and /api/v1/errors) and skipped; the rest applies.")
  java.nio.file.Path manifests;

  @Option(names = "--max-manifest-bytes", defaultValue = "4194304", paramLabel = "BYTES",
      description = "With --manifests: a larger file is refused from its size, unread, and reported (log and "
          + "/api/v1/errors) while the rest applies; the objects it held before stay (default: ${DEFAULT-VALUE}, 4 MiB). "
          + "A scalar or YAML line over 256 KiB, nesting over 100, more than 10,000 documents or a parse over 15 s "
          + "are refused the same way.")
  long maxManifestBytes;

  @Option(names = "--ovsdb-max-message-bytes", defaultValue = "33554432", paramLabel = "BYTES",
      description = "Longest OVSDB JSON-RPC message accepted from a server (default: ${DEFAULT-VALUE}, 32 MiB, several "
          + "times a monitor reply for 10,000 pod ports); a longer one is dropped while it streams in and logged, so "
          + "no server can make Sluice buffer more. At least 65536.")
  int ovsdbMaxMessageBytes;

  @Option(names = "--ovsdb-max-peers", defaultValue = "4096", paramLabel = "N",
      description = "Most ovsdb-servers connected to --ovsdb-listen at once (default: ${DEFAULT-VALUE}); more are "
          + "closed as they arrive, logged at most once per 10 s.")
  int ovsdbMaxPeers;

  @Option(names = "--kubeconfig", paramLabel = "FILE",
      description = "Watch a Kubernetes cluster's API server (Namespaces, Nodes, Pods, Services, EndpointSlices, "
          + "NetworkPolicies) through the current context of FILE. No switch is written until every kind has been "
          + "listed once. Exclusive with --manifests and --in-cluster.")
  java.nio.file.Path kubeconfig;

  @Option(names = "--in-cluster",
      description = "Like --kubeconfig, with the service account of the pod Sluice runs in (deploy/kubernetes/).")
  boolean inCluster;

  @Option(names = "--leader-elect",
      description = "Run as one of several replicas: the holder of a coordination.k8s.io Lease asks every switch for "
          + "MASTER with the Lease's leaseTransitions as generation id, the others ask for SLAVE and never write. "
          + "Needs --kubeconfig or --in-cluster. Point each switch at every replica (ovs-vsctl set-controller BR "
          + "tcp:A:6653 tcp:B:6653).")
  boolean leaderElect;

  @Option(names = "--lease-namespace", paramLabel = "NS",
      description = "Namespace of the Lease(s) (default: the pod's own namespace in a cluster, else 'default').")
  String leaseNamespace;

  @Option(names = "--lease-name", defaultValue = "sluice", paramLabel = "NAME",
      description = "Name of the Lease; with --shards N, NAME-shard-0 ... NAME-shard-(N-1) (default: ${DEFAULT-VALUE}).")
  String leaseName;

  @Option(names = "--identity", paramLabel = "ID",
      description = "This replica's name in the Lease (default: the pod name from HOSTNAME, else host name and pid).")
  String identity;

  @Option(names = "--lease-duration", defaultValue = "8s", paramLabel = "DURATION",
      description = "How long a Lease holds without renewal; the longest a dead leader's switches wait for the next "
          + "one (default: ${DEFAULT-VALUE}).")
  String leaseDuration;

  @Option(names = "--renew-deadline", defaultValue = "6s", paramLabel = "DURATION",
      description = "A leader that has not renewed within this gives up writing (default: ${DEFAULT-VALUE}).")
  String renewDeadline;

  @Option(names = "--retry-period", defaultValue = "1s", paramLabel = "DURATION",
      description = "How often a leader renews and a standby tries to acquire (default: ${DEFAULT-VALUE}).")
  String retryPeriod;

  @Option(names = "--shards", defaultValue = "1", paramLabel = "N",
      description = "Split the switches into N shards by a stable hash of the datapath id, one Lease each, so that "
          + "several replicas lead different switches at once; a shard fails over alone (default: ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--ovsdb", paramLabel = "unix:PATH|tcp:HOST:PORT|ssl:HOST:PORT",
      description = "An OVSDB server to connect to (repeatable, one per node), e.g. unix:/var/run/openvswitch/db.sock; "
          + "ssl: needs --private-key, --certificate and --ca-cert and accepts only a server certificate the CA signed. "
          + "Sluice learns which pod sits on which switch port from Interface external_ids pod-namespace/pod-name, "
          + "and reconnects with backoff.")
  java.util.List<String> ovsdb = new java.util.ArrayList<>();

  @Option(names = "--ovsdb-listen", paramLabel = "HOST:PORT|ptcp:PORT[:HOST]|pssl:PORT[:HOST]",
      description = "Also accept OVSDB servers that connect here (ovs-vsctl set-manager tcp:CONTROLLER:PORT); pssl: "
          + "speaks TLS like --listen pssl: (ovs-vsctl set-manager ssl:CONTROLLER:PORT).")
  String ovsdbListen;

  @Option(names = "--legacy-isolation",
      description = "Honour the oldest NetworkPolicy API's namespace annotation net.beta.kubernetes.io/network-policy: "
          + "{\"ingress\": {\"isolation\": \"DefaultDeny\"}} (isolates every pod of the namespace for ingress). "
          + "Off by default; for clusters migrating from it.")
  boolean legacyIsolation;

  @Option(names = "--metrics-per-rule",
      description = "Also expose each NetworkPolicy rule's allowed packets and bytes on /metrics "
          + "(sluice_policy_rule_allowed_packets_total and _bytes_total, labels policy, direction, rule). Off by default: "
          + "a series per rule grows with the policies' rules; the per-policy totals (sluice_policy_allowed_*) are "
          + "always there.")
  boolean metricsPerRule;

  @Option(names = "--workers", paramLabel = "N",
      description = "Event-loop threads for all switch connections together, never one per connection "
          + "(default: one per CPU core).")
  Integer workers;

  @Option(names = "--max-switches", paramLabel = "N",
      description = "Most OpenFlow connections at once, handshakes included; more are closed as they arrive, with one "
          + "log line per 10 s (default: one per 4 MiB of the JVM's maximum heap, between 64 and 10000).")
  Integer maxSwitches;

  @Option(names = "--max-switches-per-address", paramLabel = "N",
      description = "Most OpenFlow connections at once from one remote IP address (default: 128, or --max-switches "
          + "if lower).")
  Integer maxPerAddress;

  @Option(names = "--write-stall-timeout", defaultValue = "30s", paramLabel = "DURATION",
      description = "A switch that takes nothing of what Sluice writes while more than 2 MiB wait for it is closed "
          + "after this long; meanwhile Sluice reads nothing from it (default: ${DEFAULT-VALUE}).")
  String writeStallTimeout;

  @Option(names = "--reply-max-bytes", defaultValue = "268435456", paramLabel = "BYTES",
      description = "Most bytes of multipart replies (flow, group, meter dumps) one switch may have in flight; past it "
          + "the request fails naming the switch and its connection is closed (default: ${DEFAULT-VALUE}, 256 MiB).")
  long replyMaxBytes;

  @Option(names = "--reply-timeout", defaultValue = "2m", paramLabel = "DURATION",
      description = "How long a request to a switch may wait for its whole reply; a multipart reply still arriving "
          + "then closes the connection (default: ${DEFAULT-VALUE}).")
  String replyTimeout;

  @Option(names = "--audit-log", paramLabel = "FILE",
      description = "Write the audit log (new connections denied by NetworkPolicy, and those allowed by policies "
          + "annotated sluice.io/log: \"true\") to FILE, one JSON line per entry, rotated by size. Without it the "
          + "entries are still on /api/v1/audit.")
  java.nio.file.Path auditLog;

  @Option(names = "--audit-log-max-size", defaultValue = "100MB", paramLabel = "SIZE",
      description = "Rotate the audit log file when it reaches this size, checked every second (KB, MB, GB; "
          + "default: ${DEFAULT-VALUE}).")
  String auditLogMaxSize;

  @Option(names = "--audit-log-max-files", defaultValue = "5", paramLabel = "N",
      description = "Rotated audit log files kept besides the current one, 1..20 (default: ${DEFAULT-VALUE}).")
  int auditLogMaxFiles;

  @Option(names = "--profile", paramLabel = "[DPID=]NAME",
      description = "The pipeline profile of the switches (NAME), or of one switch (DPID=NAME; repeatable): ovs (the "
          + "default), openflow13-generic, openflow13-single-table, or one of --profiles DIR. A switch whose profile "
          + "cannot carry Sluice's pipeline gets a drop-all flow (fail closed) and an error on /api/v1/errors.")
  java.util.List<String> profile = new java.util.ArrayList<>();

  @Option(names = "--profiles", paramLabel = "DIR",
      description = "A directory of profile files (NAME.yaml, as the shipped ones) besides the shipped profiles.")
  java.nio.file.Path profilesDir;

  @Option(names = "--audit-deny-rate", defaultValue = "10000", paramLabel = "N",
      description = "Denied connections each switch may send to the audit log per second (an OpenFlow meter on the "
          + "switch; past it the switch drops the copies, counted in sluice_audit_meter_dropped_total) "
          + "(default: ${DEFAULT-VALUE}).")
  long auditDenyRate;

  @Option(names = "--audit-allow-rate", defaultValue = "1000", paramLabel = "N",
      description = "Allowed connections of logged policies each switch may send to the audit log per second; each "
          + "costs the switch an upcall on the path of passing traffic (default: ${DEFAULT-VALUE}).")
  long auditAllowRate;

  @Override
  public Integer call() throws Exception {
    RuntimeConfig cfg;
    try { // every flag is read before anything starts: a malformed one stops start-up with exit code 2
      var limits = io.sluice.controller.session.OpenFlowServer.Limits.defaults();
      int max = maxSwitches != null ? positive(maxSwitches, "--max-switches") : limits.maxSwitches();
      int perAddress = maxPerAddress != null ? positive(maxPerAddress, "--max-switches-per-address")
          : Math.min(max, limits.maxPerAddress());
      if (replyMaxBytes < 65_536) {
        throw new IllegalArgumentException("--reply-max-bytes: must be at least 65536 (64 KiB), got " + replyMaxBytes);
      }
      Duration stall = positive(parseDuration(writeStallTimeout, "--write-stall-timeout"), "--write-stall-timeout",
          writeStallTimeout);
      Duration reply = positive(parseDuration(replyTimeout, "--reply-timeout"), "--reply-timeout", replyTimeout);
      RuntimeConfig.Bounds bounds = new RuntimeConfig.Bounds(max, perAddress, stall, replyMaxBytes, reply,
          maxManifestBytes, ovsdbMaxMessageBytes, ovsdbMaxPeers);
      int threads = workers != null ? positive(workers, "--workers")
          : io.sluice.controller.session.OpenFlowServer.Limits.defaultWorkers();
      if (kubeconfig != null && inCluster) {
        throw new IllegalArgumentException("--kubeconfig and --in-cluster are exclusive: give one way to reach the "
            + "API server");
      }
      if ((kubeconfig != null || inCluster) && manifests != null) {
        throw new IllegalArgumentException((inCluster ? "--in-cluster" : "--kubeconfig") + " and --manifests are "
            + "exclusive: intent comes either from a cluster's API server or from a manifest directory");
      }
      if (kubeconfig != null && !java.nio.file.Files.isReadable(kubeconfig)) {
        throw new IllegalArgumentException("--kubeconfig: " + kubeconfig + " does not exist or cannot be read");
      }
      RuntimeConfig.Kubernetes kubernetes = kubeconfig != null || inCluster
          ? new RuntimeConfig.Kubernetes(kubeconfig) : null;
      io.sluice.controller.ha.Leadership.Settings election = null;
      if (leaderElect) {
        election = new io.sluice.controller.ha.Leadership.Settings(
            leaseNamespace != null ? leaseNamespace : defaultNamespace(), leaseName,
            identity != null ? identity : defaultIdentity(), parseDuration(leaseDuration, "--lease-duration"),
            parseDuration(renewDeadline, "--renew-deadline"), parseDuration(retryPeriod, "--retry-period"), shards);
      } else if (shards != 1) {
        throw new IllegalArgumentException("--shards needs --leader-elect: shards are led through Leases");
      }
      Listen of = listenAddress(listen);
      io.sluice.controller.tls.TlsFiles tls = io.sluice.controller.tls.TlsFiles.of(privateKey, certificate, caCert);
      if (tls != null) {
        tls.check();
      }
      if (of.tls() && tls == null) {
        throw new IllegalArgumentException("--listen " + listen + ": pssl: needs --private-key, --certificate and "
            + "--ca-cert");
      }
      boolean ovsdbTls = false;
      for (String target : ovsdb) {
        var e = flagged("--ovsdb", () -> io.sluice.ovsdb.OvsdbEndpoint.parse(target));
        ovsdbTls |= e.isTls();
        if (e.isTls() && tls == null) {
          throw new IllegalArgumentException("--ovsdb " + target + ": ssl: needs --private-key, --certificate and "
              + "--ca-cert");
        }
      }
      if (ovsdbListen != null) {
        var e = flagged("--ovsdb-listen", () -> io.sluice.ovsdb.OvsdbEndpoint.parseListen(ovsdbListen));
        ovsdbTls |= e.isTls();
        if (e.isTls() && tls == null) {
          throw new IllegalArgumentException("--ovsdb-listen " + ovsdbListen + ": pssl: needs --private-key, "
              + "--certificate and --ca-cert");
        }
      }
      io.sluice.controller.session.SwitchAllowList allowed = switches == null ? null
          : flagged("--switches", () -> io.sluice.controller.session.SwitchAllowList.read(switches));
      if (allowed != null && !of.tls() && allowed.entries().values().stream().anyMatch(java.util.Optional::isPresent)) {
        throw new IllegalArgumentException("--switches " + switches + " names certificates, but --listen " + listen
            + " is not TLS: no switch could match; use --listen pssl:PORT[:HOST]");
      }
      io.sluice.ovsdb.OvsdbNodeAllowList nodes = ovsdbNodes == null ? null
          : flagged("--ovsdb-nodes", () -> io.sluice.ovsdb.OvsdbNodeAllowList.read(ovsdbNodes));
      if (nodes != null && nodes.namesCertificates() && !ovsdbTls) {
        throw new IllegalArgumentException("--ovsdb-nodes " + ovsdbNodes + " names certificates, but no OVSDB "
            + "target is TLS (" + ovsdbTargets() + "): no server could match; use --ovsdb ssl:HOST:PORT or "
            + "--ovsdb-listen pssl:PORT[:HOST]");
      }
      cfg = new RuntimeConfig(of.address(), address(http, "--http"),
          parseDuration(echoInterval, "--echo-interval"), role, generationId, threads, manifests, ovsdb, ovsdbListen,
          legacyIsolation, kubernetes, election, bounds, new RuntimeConfig.Security(tls, of.tls(), allowed,
          nodes).withHttpToken(httpTokenFile == null ? null : flagged("--http-token-file",
              () -> readToken(httpTokenFile))), metricsPerRule,
          flagged("--audit-log", () -> new io.sluice.controller.audit.AuditLog.Options(auditLog,
              ch.qos.logback.core.util.FileSize.valueOf(auditLogMaxSize).getSize(), auditLogMaxFiles,
              io.sluice.controller.audit.AuditLog.Options.DEFAULT_RECENT, auditDenyRate, auditAllowRate)),
          flagged("--profile", () -> io.sluice.controller.profile.ProfileChoice.parse(profile, profilesDir)))
          .withFabric(io.sluice.controller.fabric.FabricDiscovery.Options.defaults().withIntervals(
              parseDuration(lldpInterval, "--lldp-interval"), parseDuration(hostTimeout, "--host-timeout")));
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("sluice run: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
    SluiceRuntime rt;
    try {
      rt = SluiceRuntime.start(cfg);
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("sluice run: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      rt.close();
      stop.countDown();
    }, "sluice-shutdown"));
    stop.await();
    return 0;
  }

  /** The OVSDB targets as given, for messages. */
  private String ovsdbTargets() {
    java.util.List<String> all = new java.util.ArrayList<>();
    ovsdb.forEach(t -> all.add("--ovsdb " + t));
    if (ovsdbListen != null) {
      all.add("--ovsdb-listen " + ovsdbListen);
    }
    return all.isEmpty() ? "none given" : String.join(", ", all);
  }

  private static <T> T flagged(String flag, java.util.function.Supplier<T> check) {
    try {
      return check.get();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
    }
  }

  /** The OpenFlow listen address and whether it speaks TLS. */
  record Listen(InetSocketAddress address, boolean tls) { }

  /** {@code --listen}: {@code HOST:PORT}, or as OVS writes it, {@code ptcp:PORT[:HOST]} or {@code pssl:PORT[:HOST]}. */
  static Listen listenAddress(String text) {
    String t = text.trim();
    if (t.startsWith("ptcp:") || t.startsWith("pssl:")) {
      String rest = t.substring(5);
      int colon = rest.indexOf(':');
      String host = colon < 0 ? "0.0.0.0" : rest.substring(colon + 1);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      int port;
      try {
        port = Integer.parseInt(colon < 0 ? rest : rest.substring(0, colon));
      } catch (NumberFormatException e) {
        port = -1;
      }
      if (port < 0 || port > 65535 || host.isEmpty()) {
        throw new IllegalArgumentException("--listen: expected HOST:PORT, ptcp:PORT[:HOST] or pssl:PORT[:HOST], got '"
            + text + "'");
      }
      return new Listen(new InetSocketAddress(host, port), t.startsWith("pssl:"));
    }
    if (t.startsWith("tcp:") || t.startsWith("ssl:") || t.startsWith("unix:") || t.startsWith("punix:")) {
      throw new IllegalArgumentException("--listen: '" + text + "' is a target to connect to; expected HOST:PORT, "
          + "ptcp:PORT[:HOST] or pssl:PORT[:HOST]");
    }
    return new Listen(address(t, "--listen"), false);
  }

  static InetSocketAddress address(String text, String flag) {
    int colon = text.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException(flag + ": expected HOST:PORT, got '" + text + "'");
    }
    String host = text.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(text.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": port of '" + text + "' is not a number");
    }
    return new InetSocketAddress(host, port);
  }

  /** The namespace a pod runs in (its service account says), else {@code default}. */
  static String defaultNamespace() {
    try {
      return java.nio.file.Files.readString(
          java.nio.file.Path.of("/var/run/secrets/kubernetes.io/serviceaccount/namespace")).trim();
    } catch (java.io.IOException e) {
      return "default";
    }
  }

  /** The pod name (HOSTNAME in a pod), else host name and process id. */
  static String defaultIdentity() {
    String h = System.getenv("HOSTNAME");
    if (h == null || h.isBlank()) {
      try {
        h = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        h = "sluice";
      }
    }
    return h + "-" + ProcessHandle.current().pid();
  }

  private static Duration positive(Duration d, String flag, String text) {
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(flag + ": must be positive, got " + text);
    }
    return d;
  }

  private static int positive(int n, String flag) {
    if (n < 1) {
      throw new IllegalArgumentException(flag + ": must be at least 1, got " + n);
    }
    return n;
  }

  static Duration parseDuration(String text) {
    return parseDuration(text, "--echo-interval");
  }

  static Duration parseDuration(String text, String flag) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("m") && !t.startsWith("p")) {
        return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 60_000));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      }
      return Duration.parse(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(flag + ": cannot read '" + text + "' as a duration (e.g. 500ms, 1s, 2m)");
    }
  }

  /** The token in a file (surrounding white space dropped); an empty or unreadable file is a clear error. */
  static String readToken(java.nio.file.Path file) {
    String t;
    try {
      t = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8).strip();
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException(file + ": cannot be read (" + e.getMessage() + ")");
    }
    if (t.isEmpty()) {
      throw new IllegalArgumentException(file + ": the token is empty");
    }
    if (t.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
      throw new IllegalArgumentException(file + ": the token must be printable ASCII without spaces");
    }
    return t;
  }
}
