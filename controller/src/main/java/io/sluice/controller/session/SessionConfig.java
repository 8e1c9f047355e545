package io.sluice.controller.session;

import java.time.Duration;

/**
 * Session timing. The switch is declared gone when nothing at all arrived for {@code 2.5 × echoInterval}
 * (two echoes missed), checked four times an interval, so detection takes under 3 echo intervals.
 */
public record SessionConfig(Duration echoInterval, Duration handshakeTimeout) {
  public static final SessionConfig DEFAULT = new SessionConfig(Duration.ofSeconds(1), Duration.ofSeconds(10));

  public SessionConfig {
    if (echoInterval.toMillis() < 10) {
      throw new IllegalArgumentException("echo interval must be at least 10 ms, got " + echoInterval);
    }
  }

  long deadAfterNanos() {
    return echoInterval.toNanos() * 5 / 2;
  }
}
