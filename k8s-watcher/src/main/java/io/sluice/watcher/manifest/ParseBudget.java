package io.sluice.watcher.manifest;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.function.BooleanSupplier;

/**
 * How long the parse running on this thread may take, and whether its source still wants the result. Set by
 * {@link ManifestParser#parse(String, byte[], boolean, ParseBudget)} for the duration of one file and checked by the
 * YAML character source before each read ({@link FastYamlFactory}), so a slow parse (SnakeYAML's scanner slows down
 * badly on very long lines) ends at its deadline, and a parse in progress ends when the source stops or the thread is
 * interrupted. Only one thread touches a budget.
 */
final class ParseBudget {
  private static final ThreadLocal<ParseBudget> CURRENT = new ThreadLocal<>();

  private final long deadline;
  private final BooleanSupplier cancelled;
  private boolean expired;

  /** A budget of {@code nanos} from now; {@code cancelled} true means: stop, nobody wants the result. */
  ParseBudget(long nanos, BooleanSupplier cancelled) {
    this.deadline = System.nanoTime() + nanos;
    this.cancelled = cancelled;
  }

  /** No deadline, never cancelled (only an interrupt stops the parse). */
  static ParseBudget unlimited() {
    return new ParseBudget(Long.MAX_VALUE / 4, () -> false);
  }

  /** Thrown when the parse is to stop because its source stopped or its thread was interrupted. */
  static final class Cancelled extends RuntimeException {
    Cancelled() {
      super("manifest parse cancelled", null, false, false);
    }
  }

  void enter() {
    CURRENT.set(this);
  }

  void exit() {
    CURRENT.remove();
  }

  boolean expired() {
    return expired;
  }

  boolean cancelled() {
    return cancelled.getAsBoolean() || Thread.currentThread().isInterrupted();
  }

  /** Throws if the current parse is to stop: cancelled, interrupted or past its deadline. */
  static void check() throws IOException {
    ParseBudget b = CURRENT.get();
    if (Thread.currentThread().isInterrupted() || b != null && b.cancelled.getAsBoolean()) {
      throw new InterruptedIOException("manifest parse cancelled");
    }
    if (b != null && System.nanoTime() - b.deadline > 0) {
      b.expired = true;
      throw new IOException("manifest parse time limit reached");
    }
  }
}
