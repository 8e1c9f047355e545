package io.sluice.controller.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.controller.runtime.RuntimeConfig;
import io.sluice.controller.runtime.SluiceRuntime;
import io.sluice.controller.testing.HeadlessChromium;
import io.sluice.controller.testing.Ovs;
import io.sluice.controller.testing.Sh;
import io.sluice.model.ObjectRef;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web view in Debian's headless Chromium against Sluice on real OVS, with the demo's manifests (examples/demo,
 * copied to a temporary directory) and its four pods as namespace hosts on one bridge. api-1 opens a connection to
 * db-1 on 8080 (allowed by backend/db-from-api, which is logged) and db-1 one to api-1 (denied). The page must show the
 * switch realized, the demo's pods bound and its policies, both audit events, and backend's matrix with api-1 -> db-1
 * allowed with the counters' evidence and db-1 -> api-1 denied. Then, with the page open on frontend's matrix, a
 * manifest file with a new pod and a new policy is added: once Sluice has realized it the open page, polling, shows
 * both without a reload. A screenshot is kept as target/web-view.png.
 */
class WebViewIT {
  /** The status API's token (sluice run --http-token-file): the page must work with it. */
  private static final String TOKEN = "wv-9f3Kq7";

  /** Where the screenshot goes: the module's target directory (the test runs in the module's directory). */
  static final Path SCREENSHOT = Path.of("target", "web-view.png");
  private static final long DATAPATH = 0x7e7a;
  private static final String DPID = "00:00:00:00:00:00:7e:7a";
  private static final String[] DEMO_PODS = {"frontend/web-1", "frontend/web-2", "backend/api-1", "backend/db-1"};
  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  Path dir;
  @TempDir
  Path browser;
  @TempDir
  Path live;

  @Test
  void thePageShowsTheDemoAndFollowsAManifestChange() throws Exception {
    HeadlessChromium.executable(); // fails first, and clearly, without chromium
    Path demo = Path.of("..", "examples", "demo").toAbsolutePath().normalize();
    try (Stream<Path> files = Files.list(demo)) {
      for (Path f : files.filter(f -> f.toString().endsWith(".yaml")).toList()) {
        Files.copy(f, dir.resolve(f.getFileName()));
      }
    }
    RuntimeConfig cfg = new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofSeconds(1), RuntimeConfig.Role.EQUAL, 0, 2, dir, List.of("unix:/var/run/openvswitch/db.sock"), null)
        .withSecurity(RuntimeConfig.Security.NONE.withHttpToken(TOKEN));
    try (Ovs ovs = new Ovs(); SluiceRuntime rt = SluiceRuntime.start(cfg)) {
      String br = ovs.bridge("wv", DATAPATH, "OpenFlow13,OpenFlow14,OpenFlow15", rt.openflowPort());
      ovs.host(br, "web1", "10.244.0.11/24", "0a:58:0a:f4:00:0b", "frontend", "web-1");
      ovs.host(br, "web2", "10.244.0.12/24", "0a:58:0a:f4:00:0c", "frontend", "web-2");
      ovs.host(br, "api1", "10.244.0.21/24", "0a:58:0a:f4:00:15", "backend", "api-1");
      ovs.host(br, "db1", "10.244.0.22/24", "0a:58:0a:f4:00:16", "backend", "db-1");
      await("the demo realized with its four pods bound", () -> realized(rt, DEMO_PODS));
      Sh.run("ovs-appctl", "revalidator/purge");
      // nothing listens: the SYN is what counts (and what the audit log sees)
      ovs.inHost("api1", 10, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/10.244.0.22/8080");
      ovs.inHost("db1", 10, "timeout", "2", "bash", "-c", "exec 3<>/dev/tcp/10.244.0.21/8080");
      String api = "http://127.0.0.1:" + rt.httpPort();
      // the counters are read in the background: wait until the API has them, so the page's first poll does too
      await("api-1 -> db-1 with evidence in /api/v1/matrix", () -> {
        JsonNode m = getJson(api + "/api/v1/matrix?namespace=backend");
        return m != null && m.toString().contains("\"to\":\"db-1\",\"verdict\":\"allowed\",\"evidence\":true");
      });
      await("both connections in /api/v1/audit", () -> {
        JsonNode a = getJson(api + "/api/v1/audit?namespace=backend");
        return a != null && a.toString().contains("\"verdict\":\"allow\"") && a.toString().contains("\"verdict\":\"deny\"");
      });

      HttpResponse<String> unknown = http.send(HttpRequest.newBuilder(URI.create(api
          + "/api/v1/matrix?namespace=nope")).header("Authorization", "Bearer " + TOKEN).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(unknown.statusCode()).isEqualTo(400);
      assertThat(unknown.body()).startsWith("namespace: no namespace nope");

      assertThat(http.send(HttpRequest.newBuilder(URI.create(api + "/api/v1/switches")).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode()).as("the API wants the token").isEqualTo(401);
      // the page takes the token once, from the address's fragment (never sent to the server), and sends it
      String page = HeadlessChromium.dumpDom(browser, api + "/?namespace=backend#token=" + TOKEN);
      assertThat(page).as(page)
          .contains("<tr data-switch=\"" + DPID + "\">").containsPattern("realized \\(generation [0-9]+\\)")
          .contains("data-pod=\"frontend/web-1\"").contains("data-pod=\"frontend/web-2\"")
          .contains("data-pod=\"backend/api-1\"").contains("data-pod=\"backend/db-1\"")
          .contains("data-policy=\"backend/db-from-api\"").contains("data-policy=\"backend/api-from-frontend\"")
          .contains("data-from=\"backend/api-1\" data-to=\"backend/db-1\" data-verdict=\"allowed\" data-evidence=\"true\"")
          .contains("data-from=\"backend/db-1\" data-to=\"backend/api-1\" data-verdict=\"denied\"")
          .contains("backend/db-from-api rule 0 (ingress)")
          .contains("backend/db-1:")
          .containsPattern("model generation [0-9]+, updated")
          .doesNotContain("update failed");

      try (HeadlessChromium.Page open = HeadlessChromium.open(live, api + "/?namespace=frontend#token=" + TOKEN)) {
        awaitDom(open, "frontend's matrix", "data-from=\"frontend/web-1\" data-to=\"frontend/web-2\"");
        assertThat(open.dom()).doesNotContain("frontend/web-from-web").doesNotContain("frontend/web-3");
        Files.writeString(dir.resolve("40-web-view.yaml"), String.join("\n",
            "apiVersion: v1", "kind: Pod",
            "metadata: {name: web-3, namespace: frontend, labels: {app: web, tier: frontend}}",
            "spec: {containers: [{name: web, image: busybox:1.36, ports: [{name: http, containerPort: 8080}]}]}",
            "status: {podIP: 10.244.0.13}", "---",
            "apiVersion: networking.k8s.io/v1", "kind: NetworkPolicy",
            "metadata: {name: web-from-web, namespace: frontend}",
            "spec:", "  podSelector: {matchLabels: {app: web}}", "  ingress:",
            "  - from: [{podSelector: {matchLabels: {app: web}}}]", "    ports: [{port: 8080}]", ""));
        ovs.host(br, "web3", "10.244.0.13/24", "0a:58:0a:f4:00:0d", "frontend", "web-3");
        await("the new pod and policy realized", () ->
            rt.model().snapshot().networkPolicies().containsKey(new ObjectRef("frontend", "web-from-web"))
                && realized(rt, "frontend/web-3") && realized(rt, DEMO_PODS));
        String changed = awaitDom(open, "the new policy and pod on the open page",
            "data-policy=\"frontend/web-from-web\"", "data-pod=\"frontend/web-3\"",
            "data-from=\"frontend/web-3\" data-to=\"frontend/web-1\" data-verdict=\"allowed\"",
            "data-from=\"frontend/web-1\" data-to=\"frontend/web-3\" data-verdict=\"allowed\"");
        assertThat(changed).doesNotContain("update failed");
      }

      Files.deleteIfExists(SCREENSHOT);
      HeadlessChromium.screenshot(browser, api + "/?namespace=backend#token=" + TOKEN, SCREENSHOT, 1400, 1000);
      assertThat(Files.readAllBytes(SCREENSHOT)).as("a PNG at " + SCREENSHOT.toAbsolutePath())
          .startsWith(0x89, 'P', 'N', 'G');
    }
  }

  /** The open page's DOM once it contains every one of {@code parts} (the page polls every 2 s, in real time). */
  private static String awaitDom(HeadlessChromium.Page page, String what, String... parts) {
    String[] dom = {""};
    await(what, () -> {
      dom[0] = page.dom();
      return java.util.Arrays.stream(parts).allMatch(dom[0]::contains);
    });
    return dom[0];
  }

  private JsonNode getJson(String url) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer "
          + TOKEN).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? json.readTree(r.body()) : null;
    } catch (java.io.IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  /**
   * Every switch connected at the model's generation, and each of {@code pods} (NS/NAME) bound to a port of this test's
   * bridge. (Other tests' pods on the same OVS move the generation too: the page's generation is only checked to be a
   * realized one.)
   */
  private static boolean realized(SluiceRuntime rt, String... pods) {
    long generation = rt.model().generation();
    var st = rt.switches().statuses();
    var bindings = rt.model().snapshot().bindings();
    return java.util.Arrays.stream(pods).map(p -> new ObjectRef(p.substring(0, p.indexOf('/')), p.substring(p.indexOf('/') + 1)))
        .allMatch(p -> bindings.containsKey(p) && bindings.get(p).dpid() == DATAPATH)
        && !st.isEmpty() && st.stream().allMatch(s -> s.connected() && s.realizedGeneration() == generation);
  }

  private static void await(String what, BooleanSupplier done) {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after 30 s waiting for " + what);
      }
      Ovs.sleep(100);
    }
  }
}
