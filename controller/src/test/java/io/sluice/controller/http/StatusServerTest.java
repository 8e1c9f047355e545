package io.sluice.controller.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.StubViews;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The web view's routes on a real HTTP server with stub views: /api/v1/matrix passes its parameters through and
 * answers a bad one with 400 and the message; the page, script and style sheet are served from the jar with their
 * content types; every answer carries the Content-Security-Policy; the page loads nothing from elsewhere and puts no
 * API string in as markup.
 */
class StatusServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicReference<String> asked = new AtomicReference<>();
  private StatusServer server;

  @BeforeEach
  void start() throws IOException {
    server = new StatusServer(new InetSocketAddress("127.0.0.1", 0), new StubViews() {
      @Override
      public long generation() {
        return 3;
      }

      @Override
      public List<String> namespaces() {
        return List.of("a", "b");
      }

      @Override
      public Object matrix(String namespace, String port) {
        asked.set(namespace + " " + port);
        if ("bad".equals(port)) {
          throw new IllegalArgumentException("port bad: expected a port number");
        }
        return Map.of("namespace", String.valueOf(namespace), "pods", List.of("x"));
      }
    });
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort() + path))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void matrixPassesItsParametersAndAnswersJson() throws Exception {
    HttpResponse<String> r = get("/api/v1/matrix?namespace=shop%2Dx&port=5432%2Ftcp");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(r.body()).contains("\"namespace\" : \"shop-x\"");
    assertThat(asked.get()).isEqualTo("shop-x 5432/tcp");
    get("/api/v1/matrix?namespace=a");
    assertThat(asked.get()).as("no port: null, not empty").isEqualTo("a null");
    assertThat(get("/api/v1/namespaces").body()).contains("\"a\"", "\"b\"");
  }

  @Test
  void badMatrixInputIs400WithTheMessage() throws Exception {
    HttpResponse<String> r = get("/api/v1/matrix?namespace=a&port=bad");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain");
    assertThat(r.body()).isEqualTo("port bad: expected a port number\n");
  }

  @Test
  void theWebViewIsServedFromTheJarWithItsContentTypes() throws Exception {
    for (Map.Entry<String, String> f : Map.of("/", "text/html; charset=utf-8", "/index.html", "text/html; charset=utf-8",
        "/app.js", "text/javascript; charset=utf-8", "/style.css", "text/css; charset=utf-8").entrySet()) {
      HttpResponse<String> r = get(f.getKey());
      assertThat(r.statusCode()).as(f.getKey()).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Type")).as(f.getKey()).hasValue(f.getValue());
      assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
      assertThat(r.body()).isNotEmpty();
    }
    assertThat(get("/").body()).contains("<script src=\"app.js\"").contains("id=\"namespace\"");
    assertThat(get("/nothing.js").statusCode()).isEqualTo(404);
    assertThat(get("/api/v1/nothing").statusCode()).isEqualTo(404);
    HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + server.address().getPort() + "/")).POST(HttpRequest.BodyPublishers.noBody()).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
  }

  @Test
  void everyAnswerCarriesTheContentSecurityPolicy() throws Exception {
    for (String path : List.of("/", "/app.js", "/api/v1/matrix?namespace=a", "/api/v1/matrix?port=bad", "/healthz",
        "/nothing")) {
      assertThat(get(path).statusCode()).as(path).isIn(200, 400, 404);
      assertThat(get(path).headers().firstValue("Content-Security-Policy")).as(path)
          .hasValueSatisfying(v -> assertThat(v).startsWith("default-src 'self'"));
    }
  }

  @Test
  void thePageLoadsNothingFromElsewhereAndWritesNoMarkupFromTheApi() throws Exception {
    String html = resource("index.html");
    String js = resource("app.js");
    String css = resource("style.css");
    for (String text : List.of(html, js, css)) {
      assertThat(text).doesNotContain("http://").doesNotContain("https://").doesNotContain("//cdn");
    }
    assertThat(html).as("no inline script or style: the policy would block them")
        .doesNotContainPattern("<script>|<script [^>]*>[^<]").doesNotContain("<style").doesNotContain("style=")
        .doesNotContain("onclick=").doesNotContain("onload=");
    assertThat(js).doesNotContain("innerHTML").doesNotContain("outerHTML").doesNotContain("insertAdjacentHTML")
        .doesNotContain("document.write").doesNotContain("eval(");
    assertThat(js).as("polls every 2 s").contains("POLL_MS = 2000");
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = StatusServer.class.getResourceAsStream("web/" + name)) {
      assertThat(in).as(name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
