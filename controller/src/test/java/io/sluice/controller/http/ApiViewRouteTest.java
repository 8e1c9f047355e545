package io.sluice.controller.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.controller.testing.StubViews;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Views registered after start ({@link StatusServer#json}, the fabric's) are behind the bearer token like the rest. */
class ApiViewRouteTest {
  @Test
  void aLateViewWantsTheToken() throws Exception {
    try (StatusServer server = new StatusServer(new InetSocketAddress("127.0.0.1", 0), new StubViews(), "s3cret")) {
      server.json("/api/v1/topology", () -> Map.of("links", List.of("x")));
      assertThatThrownBy(() -> server.json("/topology", Map::of)).isInstanceOf(IllegalArgumentException.class);
      HttpClient http = HttpClient.newHttpClient();
      URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + "/api/v1/topology");
      HttpResponse<String> open = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(open.statusCode()).isEqualTo(401);
      HttpResponse<String> wrong = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer nope").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(wrong.statusCode()).isEqualTo(401);
      HttpResponse<String> ok = http.send(HttpRequest.newBuilder(uri).header("Authorization", "Bearer s3cret").build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).isEqualTo(200);
      assertThat(ok.body()).contains("\"links\"").contains("\"x\"");
    }
  }

  /** A view that fails answers 500 with the error, not a connection closed without a reply. */
  @Test
  void aFailingViewAnswers500() throws Exception {
    try (StatusServer server = new StatusServer(new InetSocketAddress("127.0.0.1", 0), new StubViews(), null)) {
      server.json("/api/v1/broken", () -> {
        throw new IllegalStateException("view broke");
      });
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + server.address().getPort() + "/api/v1/broken")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(500);
      assertThat(r.body()).contains("internal error").contains("view broke");
    }
  }
}
