package io.sluice.controller.logging;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Bounds how often one kind of event is logged, so a peer repeating something (reconnecting in a loop, flooding a
 * port) cannot flood the log: at most one line per kind per period; the next line that gets through says how many
 * were suppressed since. Kinds are the caller's (e.g. "duplicate-dpid"); the number of kinds kept is bounded, the
 * oldest forgotten first.
 */
public final class LogLimiter {
  private static final int MAX_KINDS = 1_024;

  private final long periodNanos;
  private final LongSupplier clock;
  private final Map<String, long[]> state = new ConcurrentHashMap<>(); // kind -> {last logged at, suppressed since}

  public LogLimiter(Duration period) {
    this(period, System::nanoTime);
  }

  LogLimiter(Duration period, LongSupplier clock) {
    this.periodNanos = period.toNanos();
    this.clock = clock;
  }

  /**
   * Whether a line of this kind may be logged now: -1 if not (counted as suppressed), else the number of lines of this
   * kind suppressed since the last one logged (to append to it when positive).
   */
  public long admit(String kind) {
    long now = clock.getAsLong();
    if (state.size() >= MAX_KINDS && !state.containsKey(kind)) {
      state.clear(); // a flood of kinds: forget them all rather than grow
    }
    long[] s = state.computeIfAbsent(kind, k -> new long[] {now - periodNanos, 0});
    synchronized (s) {
      if (now - s[0] >= periodNanos) {
        long suppressed = s[1];
        s[0] = now;
        s[1] = 0;
        return suppressed;
      }
      s[1]++;
      return -1;
    }
  }

  /** " (N similar lines suppressed in the last ...)" for a positive count, else "". */
  public String suffix(long suppressed) {
    return suppressed > 0 ? " (" + suppressed + " similar line(s) suppressed since the last)" : "";
  }
}
