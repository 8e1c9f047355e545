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

  @Option(names = "--listen", defaultValue = "0.0.0.0:6653", paramLabel = "HOST:PORT",
      description = "OpenFlow listen address (default: ${DEFAULT-VALUE}). Point bridges here with "
          + "ovs-vsctl set-controller BR tcp:HOST:PORT.")
  String listen;

  @Option(names = "--http", defaultValue = "127.0.0.1:8181", paramLabel = "HOST:PORT",
      description = "Status API address: /healthz, /readyz, /metrics, /api/v1/realization, /api/v1/switches "
          + "(default: ${DEFAULT-VALUE}).")
  String http;

  @Option(names = "--echo-interval", defaultValue = "1s", paramLabel = "DURATION",
      description = "Echo request interval per switch, e.g. 500ms, 1s; a switch that sends nothing for 2.5 intervals "
          + "is declared gone (default: ${DEFAULT-VALUE}).")
  String echoInterval;

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

  @Option(names = "--ovsdb", paramLabel = "unix:PATH|tcp:HOST:PORT",
      description = "An OVSDB server to connect to (repeatable, one per node), e.g. unix:/var/run/openvswitch/db.sock. "
          + "Sluice learns which pod sits on which switch port from Interface external_ids pod-namespace/pod-name, "
          + "and reconnects with backoff.")
  java.util.List<String> ovsdb = new java.util.ArrayList<>();

  @Option(names = "--ovsdb-listen", paramLabel = "HOST:PORT",
      description = "Also accept OVSDB servers that connect here (ovs-vsctl set-manager tcp:CONTROLLER:PORT).")
  String ovsdbListen;

  @Option(names = "--legacy-isolation",
      description = "Honour the oldest NetworkPolicy API's namespace annotation net.beta.kubernetes.io/network-policy: "
          + "{\"ingress\": {\"isolation\": \"DefaultDeny\"}} (isolates every pod of the namespace for ingress). "
          + "Off by default; for clusters migrating from it.")
  boolean legacyIsolation;

  @Option(names = "--workers", defaultValue = "2", paramLabel = "N",
      description = "Netty event-loop threads for switch connections (default: ${DEFAULT-VALUE}).")
  int workers;

  @Override
  public Integer call() throws Exception {
    RuntimeConfig cfg;
    try { // every flag is read before anything starts: a malformed one stops start-up with exit code 2
      cfg = new RuntimeConfig(address(listen, "--listen"), address(http, "--http"),
          parseDuration(echoInterval), role, generationId, workers, manifests, ovsdb, ovsdbListen, legacyIsolation);
      for (String target : ovsdb) {
        flagged("--ovsdb", () -> io.sluice.ovsdb.OvsdbEndpoint.parse(target));
      }
      if (ovsdbListen != null) {
        flagged("--ovsdb-listen", () -> io.sluice.ovsdb.OvsdbEndpoint.parseListen(ovsdbListen));
      }
    } catch (IllegalArgumentException e) {
      spec.commandLine().getErr().println("sluice run: " + e.getMessage());
      spec.commandLine().getErr().flush();
      return 2;
    }
    SluiceRuntime rt = SluiceRuntime.start(cfg);
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      rt.close();
      stop.countDown();
    }, "sluice-shutdown"));
    stop.await();
    return 0;
  }

  private static void flagged(String flag, Runnable check) {
    try {
      check.run();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(flag + ": " + e.getMessage(), e);
    }
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

  static Duration parseDuration(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1000));
      }
      return Duration.parse(text);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("--echo-interval: cannot read '" + text + "' as a duration (e.g. 500ms, 1s)");
    }
  }
}
