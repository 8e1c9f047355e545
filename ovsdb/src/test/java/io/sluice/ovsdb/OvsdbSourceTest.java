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
}
