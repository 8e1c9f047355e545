package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.controller.testing.Ovs;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The whole runtime as `sluice run` starts it, a real bridge, and the status API a harness reads. */
class SluiceRuntimeIT {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(int port, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void manifestsFeedTheModelAndInvalidDocumentsAreReported(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    java.nio.file.Files.writeString(dir.resolve("ns.yaml"), String.join("\n",
        "apiVersion: v1", "kind: Namespace", "metadata: {name: shop, labels: {team: a}}", "---",
        "apiVersion: v1", "kind: Pod", "metadata: {name: web, namespace: shop, labels: {app: web}}",
        "spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}",
        "status: {podIP: 10.1.0.5}", ""));
    java.nio.file.Files.writeString(dir.resolve("bad.yaml"), String.join("\n",
        "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy", "metadata: {name: broken, namespace: shop}",
        "spec: {podSelector: {}, ingress: [{ports: [{port: 70000}]}]}", ""));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir);
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      assertThat(rt.model().snapshot().pods()).hasSize(1);
      assertThat(rt.model().generation()).isGreaterThan(1);
      assertThat(get(rt.httpPort(), "/readyz").statusCode()).isEqualTo(200);
      JsonNode errors = new ObjectMapper().readTree(get(rt.httpPort(), "/api/v1/errors").body());
      assertThat(errors).hasSize(1);
      assertThat(errors.get(0).get("file").asText()).endsWith("bad.yaml");
      assertThat(errors.get(0).get("object").asText()).contains("shop/broken");
      assertThat(errors.get(0).get("field").asText()).isEqualTo("spec.ingress[0].ports[0].port");
    }
  }

  @Test
  void aManifestOverMaxManifestBytesIsAnErrorOnTheApiAndTheRestApplies(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path dir) throws Exception {
    java.nio.file.Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(dir.resolve("huge.yaml").toFile(), "rw")) {
      f.setLength(61_234_567L); // sparse: nothing to read, and nothing may be read
    }
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, java.util.List.of(), null, false, null, null,
        withManifestLimit(1 << 20));
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      assertThat(rt.model().snapshot().namespaces()).containsKey("shop");
      assertThat(get(rt.httpPort(), "/readyz").statusCode()).isEqualTo(200);
      JsonNode errors = new ObjectMapper().readTree(get(rt.httpPort(), "/api/v1/errors").body());
      assertThat(errors).hasSize(1);
      assertThat(errors.get(0).get("file").asText()).endsWith("huge.yaml");
      assertThat(errors.get(0).get("reason").asText())
          .isEqualTo("file is 61234567 bytes, more than --max-manifest-bytes 1048576; not read");
    }
  }

  @Test
  void anUnreadableManifestIsAnErrorOnTheApiAndAStoppedWatcherFailsHealthz(@org.junit.jupiter.api.io.TempDir
      java.nio.file.Path tmp) throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createDirectory(tmp.resolve("manifests"));
    java.nio.file.Files.writeString(dir.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n");
    // Root reads any file; /proc/self/mem fails with EIO at offset 0, so this manifest exists and cannot be read.
    java.nio.file.Files.createSymbolicLink(dir.resolve("eio.yaml"), java.nio.file.Path.of("/proc/self/mem"));
    java.nio.file.Files.createSymbolicLink(dir.resolve("up"), java.nio.file.Path.of(".."));
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir);
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      assertThat(rt.model().snapshot().namespaces()).containsKey("shop");
      JsonNode errors = new ObjectMapper().readTree(get(rt.httpPort(), "/api/v1/errors").body());
      assertThat(errors).hasSize(1);
      assertThat(errors.get(0).get("file").asText()).isEqualTo(dir.resolve("eio.yaml").toString());
      assertThat(errors.get(0).get("reason").asText()).isEqualTo("cannot read: Input/output error");
      assertThat(get(rt.httpPort(), "/healthz").statusCode()).isEqualTo(200);

      // The directory goes: nothing can be watched any more, and /healthz says so instead of 200.
      try (var paths = java.nio.file.Files.walk(dir)) {
        for (java.nio.file.Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
          java.nio.file.Files.delete(p);
        }
      }
      HttpResponse<String> health = get(rt.httpPort(), "/healthz");
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (health.statusCode() == 200 && System.nanoTime() < deadline) {
        Thread.sleep(20);
        health = get(rt.httpPort(), "/healthz");
      }
      assertThat(health.statusCode()).isEqualTo(503);
      assertThat(health.body()).startsWith("unhealthy: manifest directory " + dir).contains("no longer applied");
    }
  }

  @Test
  void legacyIsolationReadsTheV16ExampleWithWarningsOnTheApiAndWithoutItTheAnnotationIsAWarning(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    try (var files = java.nio.file.Files.list(java.nio.file.Path.of("..", "examples", "legacy-v1.6"))) {
      for (java.nio.file.Path f : files.toList()) {
        java.nio.file.Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    io.sluice.model.ObjectRef policy = new io.sluice.model.ObjectRef("default", "test-network-policy");
    for (boolean legacy : new boolean[] {true, false}) {
      RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0),
          new InetSocketAddress("127.0.0.1", 0), Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir,
          java.util.List.of(), null, legacy);
      try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
        ObjectMapper json = new ObjectMapper();
        JsonNode errors = json.readTree(get(rt.httpPort(), "/api/v1/errors").body());
        JsonNode warnings = json.readTree(get(rt.httpPort(), "/api/v1/warnings").body());
        if (legacy) {
          assertThat(errors).isEmpty();
          assertThat(rt.model().snapshot().networkPolicies().get(policy).allowOnly()).isTrue();
          assertThat(warnings.findValuesAsText("field")).containsExactly("apiVersion",
              "spec.ingress[0].ports[0].protocol");
          assertThat(warnings.findValuesAsText("reason")).allMatch(r -> r.startsWith("Deprecated: "));
        } else {
          assertThat(rt.model().snapshot().networkPolicies()).doesNotContainKey(policy);
          assertThat(errors.findValuesAsText("message")).containsExactly(
              "apiVersion: Unsupported value: \"extensions/v1beta1\": supported values: \"networking.k8s.io/v1\"");
          assertThat(warnings.findValuesAsText("field")).containsExactly(
              "metadata.annotations[net.beta.kubernetes.io/network-policy]");
          assertThat(warnings.get(0).get("object").asText()).isEqualTo("Namespace default");
        }
      }
    }
  }

  @Test
  void podsAreBoundToSwitchPortsThroughOvsdbAndShownOnTheApi() throws Exception {
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null, java.util.List.of("unix:/var/run/openvswitch/db.sock"), null);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("pb", 0x5e02, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "w", "10.97.0.1/24", "0a:58:0a:61:00:01", "shop", "web-" + ovs.prefix());
      ObjectMapper json = new ObjectMapper();
      JsonNode bound = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (bound == null && System.nanoTime() < deadline) {
        for (JsonNode b : json.readTree(get(rt.httpPort(), "/api/v1/ports").body()).get("bindings")) {
          if (b.get("pod").asText().equals("shop/web-" + ovs.prefix())) {
            bound = b;
          }
        }
        Ovs.sleep(20);
      }
      assertThat(bound).as("binding on /api/v1/ports").isNotNull();
      assertThat(bound.get("datapathId").asText()).isEqualTo("00:00:00:00:00:00:5e:02");
      assertThat(bound.get("ofport").asLong()).isEqualTo(1);
      assertThat(bound.get("mac").asText()).isEqualTo("0a:58:0a:61:00:01");
      assertThat(get(rt.httpPort(), "/readyz").statusCode()).isEqualTo(200);
    }
  }

  @Test
  void anUnreachableOvsdbServerIsReportedOnReadyzWhileEverythingElseRuns() throws Exception {
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null, java.util.List.of("unix:/nonexistent/db.sock"), null);
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      assertThat(get(rt.httpPort(), "/healthz").statusCode()).isEqualTo(200);
      HttpResponse<String> ready = get(rt.httpPort(), "/readyz");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).contains("unix:/nonexistent/db.sock").contains("CONNECTING");
    }
  }

  @Test
  void statusApiShowsSwitchesRealizationAndMetrics() throws Exception {
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofMillis(200), RuntimeConfig.Role.EQUAL, 0, 2);
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      int port = rt.httpPort();
      assertThat(get(port, "/healthz").statusCode()).isEqualTo(200);
      assertThat(get(port, "/readyz").statusCode()).isEqualTo(200);
      String br = ovs.bridge("rt", 0x5e01, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "x", "10.99.0.1/24", null, null, null);
      ObjectMapper json = new ObjectMapper();
      JsonNode sw = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (System.nanoTime() < deadline) {
        JsonNode r = json.readTree(get(port, "/api/v1/realization").body());
        if (r.get("switches").size() == 1 && r.get("switches").get(0).get("realizedGeneration").asLong() == r.get("generation").asLong()) {
          sw = r.get("switches").get(0);
          break;
        }
        Ovs.sleep(20);
      }
      assertThat(sw).as("switch realized in /api/v1/realization").isNotNull();
      assertThat(sw.get("datapathId").asText()).isEqualTo("00:00:00:00:00:00:5e:01");
      assertThat(sw.get("connected").asBoolean()).isTrue();
      assertThat(sw.get("flows").asInt()).isEqualTo(io.sluice.renderer.pipeline.PipelineProfile.ovs().baseFlows(0x5e01, 1).size());

      JsonNode switches = json.readTree(get(port, "/api/v1/switches").body());
      assertThat(switches.get(0).get("version").asText()).isEqualTo("OF_15");
      assertThat(switches.get(0).get("ports").findValuesAsText("name")).contains(ovs.name("x") + "-b");

      Ovs.sleep(600); // a few echo round trips
      String metrics = get(port, "/metrics").body();
      assertThat(metrics).contains("sluice_switches_connected 1")
          .contains("sluice_switch_flows{datapath_id=\"00:00:00:00:00:00:5e:01\"} " + sw.get("flows").asInt())
          .contains("sluice_bundle_commit_seconds_bucket")
          .contains("sluice_echo_rtt_seconds{datapath_id=\"00:00:00:00:00:00:5e:01\"}")
          .contains("sluice_model_generation 1")
          .contains("sluice_flow_mods_total{datapath_id=\"00:00:00:00:00:00:5e:01\"}")
          .contains("sluice_switch_realized_generation{datapath_id=\"00:00:00:00:00:00:5e:01\"} 1");
      // every family a running runtime exposes (switch connected, bundles committed) follows the conventions
      assertThat(MetricsConventions.violations(metrics)).as(metrics).isEmpty();
      assertThat(get(port, "/nope").statusCode()).isEqualTo(404);
    }
  }

  @Test
  void ovsdbServersRefusedPastOvsdbMaxPeersAreCounted() throws Exception {
    int ovsdbPort;
    try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      ovsdbPort = free.getLocalPort();
    }
    RuntimeConfig.Bounds d = RuntimeConfig.Bounds.defaults();
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, null, java.util.List.of(), "127.0.0.1:" + ovsdbPort, false,
        null, null, new RuntimeConfig.Bounds(d.maxSwitches(), d.maxPerAddress(), d.writeStallTimeout(),
            d.replyMaxBytes(), d.replyTimeout(), d.maxManifestBytes(), d.ovsdbMaxMessageBytes(), 1));
    try (SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      assertThat(get(rt.httpPort(), "/metrics").body()).contains("sluice_ovsdb_peers_refused_total 0.0");
      java.net.Socket first = null;
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (first == null) { // the listener comes up in the background
        try {
          first = new java.net.Socket("127.0.0.1", ovsdbPort);
        } catch (java.net.ConnectException e) {
          assertThat(System.nanoTime()).as("OVSDB listener up").isLessThan(deadline);
          Thread.sleep(20);
        }
      }
      first.setSoTimeout(3000);
      assertThat(first.getInputStream().read(new byte[64])).as("the first is served").isPositive();
      try (java.net.Socket one = first; java.net.Socket second = new java.net.Socket("127.0.0.1", ovsdbPort)) {
        second.setSoTimeout(3000);
        assertThat(second.getInputStream().read()).as("the second is closed by Sluice").isEqualTo(-1);
        String metrics = get(rt.httpPort(), "/metrics").body();
        assertThat(metrics).contains("sluice_ovsdb_peers_refused_total 1.0");
        assertThat(MetricsConventions.violations(metrics)).as(metrics).isEmpty();
      }
    }
  }

  private static RuntimeConfig.Bounds withManifestLimit(long bytes) {
    RuntimeConfig.Bounds d = RuntimeConfig.Bounds.defaults();
    return new RuntimeConfig.Bounds(d.maxSwitches(), d.maxPerAddress(), d.writeStallTimeout(), d.replyMaxBytes(),
        d.replyTimeout(), bytes, d.ovsdbMaxMessageBytes(), d.ovsdbMaxPeers());
  }
}
