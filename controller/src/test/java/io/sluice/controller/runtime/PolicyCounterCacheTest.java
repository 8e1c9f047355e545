package io.sluice.controller.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PolicyCounterCacheTest {
  private final AtomicLong now = new AtomicLong();
  private final List<CompletableFuture<Map<Long, long[]>>> reads = new ArrayList<>();
  private final PolicyCounterCache cache = new PolicyCounterCache(() -> {
    CompletableFuture<Map<Long, long[]>> f = new CompletableFuture<>();
    reads.add(f);
    return f;
  }, Duration.ofSeconds(1), now::get);

  @Test
  void readersNeverWaitForASwitchAndGetWhatWasLastRead() {
    assertThat(cache.current()).as("nothing read yet: no counters, no waiting").isNull();
    assertThat(reads).hasSize(1);
    assertThat(cache.current()).isNull();
    assertThat(reads).as("one read in flight at a time, however often asked").hasSize(1);

    reads.get(0).complete(Map.of(7L, new long[] {3, 300}));
    assertThat(cache.current().get(7L)).containsExactly(3, 300);
    assertThat(reads).as("fresh: not read again").hasSize(1);

    now.addAndGet(Duration.ofSeconds(2).toNanos());
    assertThat(cache.current().get(7L)).as("stale counters served while a new read runs").containsExactly(3, 300);
    assertThat(reads).hasSize(2);
  }

  @Test
  void aReadThatFailsKeepsTheLastCountersAndAllowsTheNext() {
    cache.current();
    reads.get(0).complete(Map.of(1L, new long[] {1, 1}));
    now.addAndGet(Duration.ofSeconds(2).toNanos());
    cache.current();
    reads.get(1).completeExceptionally(new IllegalStateException("switch gone"));
    assertThat(cache.current().get(1L)).containsExactly(1, 1);
    now.addAndGet(Duration.ofSeconds(2).toNanos());
    cache.current();
    assertThat(reads).hasSize(3);
  }
}
