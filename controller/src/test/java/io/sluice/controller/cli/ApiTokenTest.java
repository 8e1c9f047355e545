package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.http.StatusServer;
import io.sluice.controller.testing.StubViews;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status API with a token ({@code sluice run --http-token-file}) on a real HTTP server: every API path and
 * {@code /metrics} want {@code Authorization: Bearer TOKEN} (401 otherwise, with the scheme named), the kubelet's
 * probes and the web view's static files do not; a client command sends the token of {@code --api-token-file}.
 */
class ApiTokenTest {
  private static final String TOKEN = "Zq4-8vT_k2";
  private final HttpClient http = HttpClient.newHttpClient();
  private StatusServer server;

  @TempDir
  Path dir;

  @BeforeEach
  void start() throws Exception {
    server = new StatusServer(new InetSocketAddress("127.0.0.1", 0), new StubViews() {
      @Override
      public byte[] metrics() {
        return "sluice_up 1\n".getBytes();
      }
    }, TOKEN);
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path));
    if (authorization != null) {
      b.header("Authorization", authorization);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String base() {
    return "http://127.0.0.1:" + server.address().getPort();
  }

  @Test
  void everyApiPathWantsTheTokenButTheProbesAndTheStaticPage() throws Exception {
    for (String open : List.of("/healthz", "/readyz", "/", "/app.js", "/style.css")) {
      assertThat(get(open, null).statusCode()).as(open).isEqualTo(200);
    }
    for (String closed : List.of("/metrics", "/api/v1/switches", "/api/v1/audit", "/api/v1/realization",
        "/api/v1/policies", "/api/v1/ports", "/api/v1/errors")) {
      HttpResponse<String> none = get(closed, null);
      assertThat(none.statusCode()).as(closed).isEqualTo(401);
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"sluice\"");
      assertThat(none.body()).contains("--http-token-file").contains("--api-token-file");
      assertThat(get(closed, "Bearer " + TOKEN + "x").statusCode()).as(closed + " wrong token").isEqualTo(401);
      assertThat(get(closed, "Bearer " + TOKEN.substring(1)).statusCode()).as(closed + " prefix").isEqualTo(401);
      assertThat(get(closed, "Basic " + TOKEN).statusCode()).as(closed + " other scheme").isEqualTo(401);
      assertThat(get(closed, "Bearer " + TOKEN).statusCode()).as(closed + " right token").isEqualTo(200);
    }
    assertThat(get("/metrics", "Bearer " + TOKEN).body()).isEqualTo("sluice_up 1\n");
  }

  @Test
  void clientCommandsSendTheTokenOfApiTokenFile() throws Exception {
    Path manifests = Files.createDirectories(dir.resolve("m"));
    Files.writeString(manifests.resolve("ns.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n");
    Path token = dir.resolve("token");
    Files.writeString(token, TOKEN + "\n");
    CliRun r = CliRun.run("advise", "--manifests", manifests.toString(), "--api", base(), "--api-token-file",
        token.toString());
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).contains("0 connections observed");
    r = CliRun.run("advise", "--manifests", manifests.toString(), "--api", base());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("answered HTTP 401").contains("--api-token-file");

    Files.writeString(token, "  \n");
    r = CliRun.run("advise", "--manifests", manifests.toString(), "--api", base(), "--api-token-file",
        token.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--api-token-file").contains("the token is empty");
    r = CliRun.run("run", "--http-token-file", token.toString(), "--manifests", manifests.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("--http-token-file").contains("the token is empty");
  }
}
