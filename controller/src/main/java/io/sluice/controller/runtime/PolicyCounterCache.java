package io.sluice.controller.runtime;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The policy rule counters last read from the switches, for /metrics and /api/v1/policies. Readers never wait on a
 * switch: they get what was last read (null before the first read completes) and, when it is older than
 * {@code maxAge}, start one new read in the background (never more than one at a time).
 */
final class PolicyCounterCache {
  private final Supplier<CompletableFuture<Map<Long, long[]>>> read;
  private final long maxAgeNanos;
  private final LongSupplier clock;
  private final AtomicBoolean reading = new AtomicBoolean();
  private volatile Map<Long, long[]> last;
  private volatile long readAt;
  private volatile boolean everStarted;

  PolicyCounterCache(Supplier<CompletableFuture<Map<Long, long[]>>> read, Duration maxAge) {
    this(read, maxAge, System::nanoTime);
  }

  PolicyCounterCache(Supplier<CompletableFuture<Map<Long, long[]>>> read, Duration maxAge, LongSupplier clock) {
    this.read = read;
    this.maxAgeNanos = maxAge.toNanos();
    this.clock = clock;
  }

  /** The counters last read (null if none yet); starts a background refresh when they are stale. */
  Map<Long, long[]> current() {
    long now = clock.getAsLong();
    if ((!everStarted || now - readAt >= maxAgeNanos) && reading.compareAndSet(false, true)) {
      everStarted = true;
      CompletableFuture<Map<Long, long[]>> f;
      try {
        f = read.get();
      } catch (RuntimeException e) {
        reading.set(false);
        return last;
      }
      f.whenComplete((m, err) -> {
        if (err == null && m != null) {
          last = m;
        }
        readAt = clock.getAsLong();
        reading.set(false);
      });
    }
    return last;
  }
}
