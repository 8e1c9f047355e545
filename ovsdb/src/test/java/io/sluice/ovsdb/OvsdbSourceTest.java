package io.sluice.ovsdb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.model.ModelEvent;
import io.sluice.model.source.Source;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The {@link Source} contract as OVSDB keeps it, without a server (port 1 on loopback refuses connections). */
class OvsdbSourceTest {
  private static final OvsdbSource.Options FAST = OvsdbSource.Options.defaults()
      .withBackoff(Duration.ofMillis(50), Duration.ofMillis(100));
  private final List<List<ModelEvent>> batches = new CopyOnWriteArrayList<>();

  private static OvsdbSource unreachable() {
    return new OvsdbSource(List.of(OvsdbEndpoint.parse("tcp:127.0.0.1:1")), FAST);
  }

  @Test
  void isTheSameSourceContractAsTheManifestDirectory() {
    Source source = unreachable();
    source.start(batches::add);
    try {
      assertThat(source.ready()).as("not synced with a server that refuses").isFalse();
      assertThat(source.errors()).as("connection problems are status, not refused objects").isEmpty();
    } finally {
      source.stop();
    }
    assertThat(batches).as("nothing bound, nothing sent").isEmpty();
  }

  @Test
  void startReturnsAtOnceAndReportsTheServerAsConnecting() {
    OvsdbSource source = unreachable();
    long t0 = System.nanoTime();
    source.start(batches::add);
    try {
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(2));
      assertThat(source.status()).extracting(OvsdbStatus::state).containsExactly(OvsdbStatus.State.CONNECTING);
      assertThat(source.bindings()).isEmpty();
    } finally {
      source.stop();
    }
    assertThat(source.status()).extracting(OvsdbStatus::state).containsExactly(OvsdbStatus.State.CLOSED);
  }

  @Test
  void startingTwiceIsRefused() {
    OvsdbSource source = unreachable();
    source.start(batches::add);
    try {
      assertThatThrownBy(() -> source.start(batches::add)).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already started");
    } finally {
      source.stop();
    }
  }

  @Test
  void stopIsIdempotentAndHarmlessBeforeStart() {
    OvsdbSource never = unreachable();
    assertThat(never.bindings()).isEmpty();
    never.stop();
    never.stop();
    assertThatThrownBy(() -> never.start(batches::add)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already stopped");

    OvsdbSource source = unreachable();
    source.start(batches::add);
    source.stop();
    source.stop();
  }

  @Test
  void aSilentConnectionToTheListenerDoesNotHoldReadiness() throws Exception {
    OvsdbEndpoint listen = OvsdbEndpoint.parseListen("127.0.0.1:0");
    OvsdbSource source = new OvsdbSource(List.of(listen), FAST);
    source.start(batches::add);
    try (java.net.Socket silent = new java.net.Socket()) {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (source.listenPort(listen).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertThat(source.ready()).as("listening").isTrue();
      silent.connect(new java.net.InetSocketAddress("127.0.0.1", source.listenPort(listen).orElseThrow()));
      while ((source.status().size() < 2 || source.status().get(1).state() != OvsdbStatus.State.SYNCING)
          && System.nanoTime() < deadline) { // accepted, then waiting for the schema the peer never sends
        Thread.sleep(10);
      }
      assertThat(source.status()).extracting(OvsdbStatus::state)
          .containsExactly(OvsdbStatus.State.LISTENING, OvsdbStatus.State.SYNCING);
      assertThat(source.ready()).as("a peer that never speaks does not make the source not ready").isTrue();
    } finally {
      source.stop();
    }
  }

  @Test
  void connectionsToTheListenerPastTheLimitAreClosedAsTheyArrive() throws Exception {
    OvsdbEndpoint listen = OvsdbEndpoint.parseListen("127.0.0.1:0");
    OvsdbSource source = new OvsdbSource(List.of(listen), FAST.withMaxPeers(2));
    source.start(batches::add);
    List<java.net.Socket> peers = new java.util.ArrayList<>();
    try {
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (source.listenPort(listen).isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      int port = source.listenPort(listen).orElseThrow();
      for (int i = 0; i < 3; i++) {
        java.net.Socket s = new java.net.Socket("127.0.0.1", port);
        s.setSoTimeout(3000);
        peers.add(s);
        if (i < 2) { // accepted and attached before the next one arrives
          int expected = i + 2;
          while (source.status().size() < expected && System.nanoTime() < deadline) {
            Thread.sleep(10);
          }
        }
      }
      assertThat(peers.get(2).getInputStream().read()).as("the third is closed by Sluice").isEqualTo(-1);
      assertThat(source.refusedPeers()).as("counted (sluice_ovsdb_peers_refused_total)").isEqualTo(1);
      // the first two are being served: Sluice asks them for the schema
      byte[] buf = new byte[64];
      assertThat(peers.get(0).getInputStream().read(buf)).isPositive();
      assertThat(new String(buf, java.nio.charset.StandardCharsets.UTF_8)).contains("get_schema");
      // one of them leaves: room for another
      peers.get(1).close();
      deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (source.status().stream().filter(x -> x.state() == OvsdbStatus.State.CLOSED).count() < 1
          && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      java.net.Socket again = new java.net.Socket("127.0.0.1", port);
      again.setSoTimeout(3000);
      peers.add(again);
      assertThat(again.getInputStream().read(buf)).as("served again once a peer left").isPositive();
      assertThat(source.refusedPeers()).isEqualTo(1);
    } finally {
      for (java.net.Socket s : peers) {
        s.close();
      }
      source.stop();
    }
  }
}
