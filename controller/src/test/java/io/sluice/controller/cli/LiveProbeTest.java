package io.sluice.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a controller answers goes into a command run as root (nsenter, bash): an answer whose address is not an IP
 * literal, or whose port name is not an interface name, is not judged and runs nothing; UDP is not judged live.
 */
class LiveProbeTest {
  private HttpServer server;
  private final AtomicReference<String> answer = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 4);
    server.createContext("/api/v1/trace", ex -> {
      byte[] b = answer.get().getBytes(StandardCharsets.UTF_8);
      ex.sendResponseHeaders(200, b.length);
      ex.getResponseBody().write(b);
      ex.close();
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  private LiveProbe.Outcome probe(String port) {
    return new LiveProbe("http://127.0.0.1:" + server.getAddress().getPort(), null, Duration.ofSeconds(1))
        .probe("ns/a", "ns/b", port);
  }

  @Test
  void aHostileAnswerRunsNothing() {
    answer.set("{\"from\":{\"portName\":\"a-b\"},\"to\":{\"ip\":\"10.0.0.2/80; touch /tmp/sluice-pwned #\"}}");
    LiveProbe.Outcome o = probe("80");
    assertThat(o.allowed()).isNull();
    assertThat(o.detail()).contains("the controller gave no IP address for ns/b");
    answer.set("{\"from\":{\"portName\":\"../../../etc\"},\"to\":{\"ip\":\"10.0.0.2\"}}");
    o = probe("80");
    assertThat(o.allowed()).isNull();
    assertThat(o.detail()).contains("no interface name for ns/a");
  }

  @Test
  void udpIsNotJudgedLive() {
    answer.set("{}");
    LiveProbe.Outcome o = probe("53/udp");
    assertThat(o.skipped()).isTrue();
    assertThat(o.detail()).contains("UDP has no handshake");
  }
}
