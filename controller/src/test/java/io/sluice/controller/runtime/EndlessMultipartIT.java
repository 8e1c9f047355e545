package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.nio.NioEventLoopGroup;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.sync.SwitchStatus;
import io.sluice.controller.testing.FakeSwitch;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.types.DatapathId;

/**
 * A switch that answers every multipart request with parts flagged "more follows", forever: the status API keeps
 * answering at once from what Sluice holds, what Sluice keeps for that switch stays within the reply bound, and the
 * switch is cut off (by time or by size) with an error naming it, while a well-behaved switch keeps working.
 */
class EndlessMultipartIT {
  private static final long ENDLESS = 0xe1;
  private static final long GOOD = 0x600d;
  /** A correctness bound, not a benchmark: these answer in milliseconds; waiting on a switch would take seconds. */
  private static final long HTTP_BOUND_MS = 1_000;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private NioEventLoopGroup clients;

  @BeforeEach
  void clients() {
    clients = new NioEventLoopGroup(1);
  }

  @AfterEach
  void close() {
    clients.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  @Test
  void theStatusApiAnswersAtOnceWhileASwitchStreamsForeverAndTheSwitchIsCutOffByTime() throws Exception {
    long maxBytes = 64L << 20;
    RuntimeConfig cfg = config(new RuntimeConfig.Bounds(100, 100, Duration.ofSeconds(30), maxBytes, Duration.ofSeconds(4)));
    try (SluiceRuntime rt = warm(SluiceRuntime.start(cfg));
         FakeSwitch good = FakeSwitch.connect(clients, rt.openflowPort(), GOOD, FakeSwitch.Mode.WELL_BEHAVED);
         FakeSwitch endless = FakeSwitch.connect(clients, rt.openflowPort(), ENDLESS, FakeSwitch.Mode.ENDLESS_MULTIPART,
             "127.0.0.1", 2)) {
      awaitConnected(rt, ENDLESS);
      long held = 0;
      long slowest = 0;
      int asked = 0;
      long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(3_000); // while it streams (cut off at 4 s)
      while (System.nanoTime() < until && endless.isOpen()) {
        for (String path : List.of("/healthz", "/metrics", "/readyz", "/api/v1/switches", "/api/v1/realization",
            "/api/v1/policies", "/api/v1/ports")) {
          long t0 = System.nanoTime();
          HttpResponse<String> r = get(rt, path);
          long ms = (System.nanoTime() - t0) / 1_000_000;
          assertThat(r.statusCode()).as(path).isEqualTo(200);
          assertThat(ms).as("%s answered in ms with a switch streaming a multipart reply forever", path)
              .isLessThan(HTTP_BOUND_MS);
          slowest = Math.max(slowest, ms);
          asked++;
        }
        held = Math.max(held, heldBytes(rt, ENDLESS));
        Thread.sleep(50);
      }
      assertThat(asked).as("status requests made while the switch streamed").isGreaterThanOrEqualTo(7);
      assertThat(held).as("reply bytes held for the endless switch").isPositive().isLessThanOrEqualTo(maxBytes);
      awaitClosed(endless, Duration.ofSeconds(10));
      SwitchStatus st = awaitDisconnected(rt, ENDLESS);
      System.out.printf("endless multipart (time bound): %d status requests, slowest %d ms, at most %d reply bytes held, "
          + "%d bytes streamed; switch %s: %s%n", asked, slowest, held, endless.endlessBytes(), st.datapathId(), st.lastError());
      assertThat(st.connected()).isFalse();
      assertThat(st.lastError()).as("the error names the switch").contains(DatapathId.of(ENDLESS).toString())
          .contains("4000 ms");
      assertGoodStillWorks(rt, good);
    }
  }

  @Test
  void aSwitchStreamingPastTheReplyBoundIsCutOffWithAnErrorNamingIt() throws Exception {
    long maxBytes = 1L << 20;
    RuntimeConfig cfg = config(new RuntimeConfig.Bounds(100, 100, Duration.ofSeconds(30), maxBytes, Duration.ofMinutes(2)));
    try (SluiceRuntime rt = warm(SluiceRuntime.start(cfg));
         FakeSwitch good = FakeSwitch.connect(clients, rt.openflowPort(), GOOD, FakeSwitch.Mode.WELL_BEHAVED);
         FakeSwitch endless = FakeSwitch.connect(clients, rt.openflowPort(), ENDLESS, FakeSwitch.Mode.ENDLESS_MULTIPART)) {
      long held = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (endless.isOpen() && System.nanoTime() < deadline) {
        // no timing here: this fake streams from inside the test's JVM as fast as a core allows, so it measures the
        // machine; the test above times the status API against a switch streaming at network-like speed
        held = Math.max(held, heldBytes(rt, ENDLESS));
        Thread.sleep(2);
      }
      assertThat(endless.isOpen()).as("the endless switch was cut off").isFalse();
      SwitchStatus st = awaitDisconnected(rt, ENDLESS);
      System.out.printf("endless multipart (size bound): at most %d reply bytes held, %d bytes streamed; switch %s: %s%n",
          held, endless.endlessBytes(), st == null ? null : st.datapathId(), st == null ? null : st.lastError());
      assertThat(held).as("reply bytes held for the endless switch").isLessThanOrEqualTo(maxBytes);
      assertThat(st).isNotNull();
      assertThat(st.lastError()).as("the error names the switch").contains(DatapathId.of(ENDLESS).toString())
          .contains(maxBytes + " bytes");
      assertGoodStillWorks(rt, good);
    }
  }

  /** Loads the HTTP client and server classes before anything is timed (the first request of a JVM is slow). */
  private SluiceRuntime warm(SluiceRuntime rt) throws Exception {
    for (String path : List.of("/healthz", "/metrics", "/api/v1/switches", "/api/v1/policies")) {
      get(rt, path);
    }
    return rt;
  }

  private static SwitchStatus awaitDisconnected(SluiceRuntime rt, long dpid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    SwitchStatus s = status(rt, dpid);
    while ((s == null || s.connected() || s.lastError() == null) && System.nanoTime() < deadline) {
      Thread.sleep(5);
      s = status(rt, dpid);
    }
    assertThat(s).as("status of the cut-off switch").isNotNull();
    assertThat(s.connected()).isFalse();
    return s;
  }

  private static RuntimeConfig config(RuntimeConfig.Bounds bounds) {
    return new RuntimeConfig(new InetSocketAddress("127.0.0.1", 0), new InetSocketAddress("127.0.0.1", 0),
        Duration.ofMillis(500), RuntimeConfig.Role.EQUAL, 0, 2).withBounds(bounds);
  }

  private void assertGoodStillWorks(SluiceRuntime rt, FakeSwitch good) throws Exception {
    assertThat(good.isOpen()).isTrue();
    SwitchSession s = rt.switches().session(GOOD);
    assertThat(s).isNotNull();
    s.barrier().get(2, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    SwitchStatus st = status(rt, GOOD);
    while (st.realizedGeneration() != rt.model().generation() && System.nanoTime() < deadline) {
      Thread.sleep(5);
      st = status(rt, GOOD);
    }
    assertThat(st.connected()).isTrue();
    assertThat(st.realizedGeneration()).as("the well-behaved switch reconciled").isEqualTo(rt.model().generation());
  }

  private static long heldBytes(SluiceRuntime rt, long dpid) throws Exception {
    SwitchSession s = rt.switches().session(dpid);
    if (s == null) {
      return 0;
    }
    try {
      return s.pendingReplies().get(2, TimeUnit.SECONDS)[0];
    } catch (java.util.concurrent.RejectedExecutionException | java.util.concurrent.TimeoutException e) {
      return 0;
    }
  }

  private static SwitchStatus status(SluiceRuntime rt, long dpid) {
    String name = DatapathId.of(dpid).toString();
    return rt.switches().statuses().stream().filter(s -> s.datapathId().equals(name)).findFirst().orElse(null);
  }

  private static void awaitConnected(SluiceRuntime rt, long dpid) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      SwitchStatus s = status(rt, dpid);
      if (s != null && s.connected()) {
        return;
      }
      Thread.sleep(5);
    }
    throw new AssertionError("switch " + DatapathId.of(dpid) + " did not connect within 10 s");
  }

  private static void awaitClosed(FakeSwitch f, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (f.isOpen() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(f.isOpen()).as("the endless switch was cut off within %s", timeout).isFalse();
  }

  private HttpResponse<String> get(SluiceRuntime rt, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + rt.httpPort() + path))
        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
  }
}
