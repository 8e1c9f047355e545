package io.sluice.controller.sync;

import java.time.Duration;
import java.util.List;

/**
 * What became of one push: whether it was applied, whether atomically (a bundle), how many flow-mods it took and
 * how long from first byte to confirming barrier; on failure, which flows the switch refused and why.
 */
public record PushResult(boolean applied, boolean atomic, int flowMods, Duration elapsed, List<Refusal> refused,
                         String failure) {
  public PushResult {
    refused = List.copyOf(refused);
  }

  /** A flow the switch refused, with the switch's reason. */
  public record Refusal(String flow, long cookie, String reason) { }
}
