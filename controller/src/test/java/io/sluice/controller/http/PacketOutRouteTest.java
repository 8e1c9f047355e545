package io.sluice.controller.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.controller.testing.StubViews;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The packet-out trace on the status API: served on POST only (it sends packets), never to a web page (a request with
 * an Origin), behind the token like the rest; a refusal keeps its status and message; the GET trace is unchanged.
 */
class PacketOutRouteTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final AtomicReference<String> asked = new AtomicReference<>();
  private StatusServer server;

  @BeforeEach
  void start() throws IOException {
    server = new StatusServer(new InetSocketAddress("127.0.0.1", 0), new StubViews() {
      @Override
      public Object tracePacketOut(String from, String to, String port, String probes) {
        asked.set(from + " " + to + " " + port + " " + probes);
        if ("busy".equals(from)) {
          throw new StatusServer.Refused(409, "another packet-out trace is running (switch 00:00:00:00:00:00:00:01)");
        }
        return Map.of("method", "packet-out");
      }

      @Override
      public Object trace(String from, String to, String port) {
        asked.set("context " + from);
        return Map.of("from", Map.of());
      }
    }, "s3cret");
  }

  @AfterEach
  void stop() {
    server.close();
  }

  private HttpResponse<String> send(String method, String query, String token, String origin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.address().getPort()
        + "/api/v1/trace?" + query)).method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (origin != null) {
      b.header("Origin", origin);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aPostWithTheTokenTraces() throws Exception {
    HttpResponse<String> r = send("POST", "method=packet-out&from=a/web&to=a/db&port=5432&probes=3", "s3cret", null);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("packet-out");
    assertThat(asked.get()).isEqualTo("a/web a/db 5432 3");
  }

  @Test
  void withoutTheTokenItIsRefusedAsEverythingElse() throws Exception {
    assertThat(send("POST", "method=packet-out&from=a/web&to=a/db&port=5432", null, null).statusCode()).isEqualTo(401);
    assertThat(send("POST", "method=packet-out&from=a/web&to=a/db&port=5432", "wrong", null).statusCode())
        .isEqualTo(401);
    assertThat(asked.get()).isNull();
  }

  @Test
  void aGetAWebPageAndAnUnknownMethodAreRefused() throws Exception {
    HttpResponse<String> get = send("GET", "method=packet-out&from=a/web&to=a/db&port=5432", "s3cret", null);
    assertThat(get.statusCode()).isEqualTo(405);
    assertThat(get.body()).contains("POST it");
    assertThat(send("POST", "method=packet-out&from=a/web&to=a/db&port=5432", "s3cret", "http://example.invalid")
        .statusCode()).isEqualTo(403);
    assertThat(send("POST", "from=a/web&to=a/db&port=5432", "s3cret", null).statusCode()).isEqualTo(405);
    assertThat(send("GET", "method=other&from=a/web&to=a/db&port=5432", "s3cret", null).statusCode()).isEqualTo(400);
    assertThat(send("DELETE", "method=packet-out", "s3cret", null).statusCode()).isEqualTo(405);
    assertThat(asked.get()).isNull();
  }

  @Test
  void aRefusalKeepsItsStatusAndMessage() throws Exception {
    HttpResponse<String> r = send("POST", "method=packet-out&from=busy&to=a/db&port=5432", "s3cret", null);
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(r.body()).contains("another packet-out trace is running (switch 00:00:00:00:00:00:00:01)");
  }

  @Test
  void theGetTraceIsAsBefore() throws Exception {
    assertThat(send("GET", "from=a/web&to=a/db&port=5432", "s3cret", null).statusCode()).isEqualTo(200);
    assertThat(asked.get()).isEqualTo("context a/web");
    assertThat(send("GET", "method=ovs-appctl&from=a/x&to=a/db&port=5432", "s3cret", null).statusCode())
        .isEqualTo(200);
    assertThat(asked.get()).isEqualTo("context a/x");
  }
}
