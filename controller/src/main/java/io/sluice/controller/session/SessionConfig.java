package io.sluice.controller.session;

import java.time.Duration;

/**
 * Session timing and the bounds one switch connection may use.
 *
 * <p>The switch is declared gone when nothing at all arrived for {@code 2.5 × echoInterval} (two echoes missed),
 * checked four times an interval, so detection takes under 3 echo intervals.
 *
 * @param writeStallTimeout a peer whose outbound buffer stays past the high water mark, with nothing of it drained,
 *                          for this long is closed (while it is past the mark Sluice reads nothing from it)
 * @param replyMaxBytes     the most one reply (all parts of a multipart reply) may hold; past it the request fails
 *                          naming the switch and the connection is closed
 * @param replyTimeout      how long a request may wait for its reply (all parts of a multipart reply); past it the
 *                          request fails naming the switch (a multipart still streaming also closes the connection)
 */
public record SessionConfig(Duration echoInterval, Duration handshakeTimeout, Duration writeStallTimeout,
                            long replyMaxBytes, Duration replyTimeout) {
  public static final Duration DEFAULT_WRITE_STALL = Duration.ofSeconds(30);
  public static final long DEFAULT_REPLY_MAX_BYTES = 256L << 20;
  public static final Duration DEFAULT_REPLY_TIMEOUT = Duration.ofMinutes(2);
  public static final SessionConfig DEFAULT = new SessionConfig(Duration.ofSeconds(1), Duration.ofSeconds(10));

  public SessionConfig {
    if (echoInterval.toMillis() < 10) {
      throw new IllegalArgumentException("echo interval must be at least 10 ms, got " + echoInterval);
    }
    if (writeStallTimeout.isNegative() || writeStallTimeout.isZero() || replyTimeout.isNegative() || replyTimeout.isZero()) {
      throw new IllegalArgumentException("write stall and reply timeouts must be positive, got " + writeStallTimeout
          + " and " + replyTimeout);
    }
    if (replyMaxBytes < 65_536) {
      throw new IllegalArgumentException("the reply bound must be at least 64 KiB, got " + replyMaxBytes);
    }
  }

  /** With the default bounds. */
  public SessionConfig(Duration echoInterval, Duration handshakeTimeout) {
    this(echoInterval, handshakeTimeout, DEFAULT_WRITE_STALL, DEFAULT_REPLY_MAX_BYTES, DEFAULT_REPLY_TIMEOUT);
  }

  long deadAfterNanos() {
    return echoInterval.toNanos() * 5 / 2;
  }
}
