package io.sluice.controller.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class LogLimiterTest {
  private long now = 1_000_000_000L;

  @Test
  void oneLinePerKindPerPeriodThenTheCountOfWhatWasSuppressed() {
    LogLimiter l = new LogLimiter(Duration.ofSeconds(10), () -> now);
    assertThat(l.admit("dup")).isZero();
    for (int i = 0; i < 500; i++) {
      now += 1_000_000; // 1 ms apart
      assertThat(l.admit("dup")).isEqualTo(-1);
    }
    assertThat(l.admit("other")).as("another kind is not held back").isZero();
    now += Duration.ofSeconds(10).toNanos();
    long suppressed = l.admit("dup");
    assertThat(suppressed).isEqualTo(500);
    assertThat(l.suffix(suppressed)).contains("500");
    assertThat(l.suffix(0)).isEmpty();
    assertThat(l.admit("dup")).isEqualTo(-1);
  }

  @Test
  void aFloodOfKindsDoesNotGrowWithoutBound() {
    LogLimiter l = new LogLimiter(Duration.ofSeconds(10), () -> now);
    for (int i = 0; i < 100_000; i++) {
      l.admit("kind-" + i);
    }
    assertThat(l.admit("kind-99999")).as("still limited right after").isEqualTo(-1);
  }
}
