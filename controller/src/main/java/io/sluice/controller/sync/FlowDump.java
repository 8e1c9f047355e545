package io.sluice.controller.sync;

import io.netty.buffer.ByteBuf;
import java.util.ArrayDeque;
import java.util.concurrent.TimeoutException;

/**
 * A switch's flow dump while it arrives: the event loop queues each reply part as the switch sends it, and a reader
 * takes each part as soon as it is there (while sync encodes the desired state on its own thread), so reading
 * 100,000 flows overlaps with the switch still dumping them. Once {@link #close}d, queued and late parts are released.
 * Thread-safe.
 */
final class FlowDump {
  private final ArrayDeque<ByteBuf> parts = new ArrayDeque<>();
  private boolean finished;
  private Throwable failure;
  private boolean closed;
  private long finishedAt;

  /** Event loop: one reply part, owned by this dump from now on. */
  synchronized void part(ByteBuf frame) {
    if (closed) {
      frame.release();
      return;
    }
    parts.add(frame);
    notifyAll();
  }

  /** Event loop: the last part was handed over ({@code failure} null), or the request failed. */
  synchronized void finished(Throwable failure) {
    this.finished = true;
    this.failure = failure;
    this.finishedAt = System.nanoTime();
    notifyAll();
  }

  /** When the switch finished sending ({@link System#nanoTime}), 0 while it has not. */
  synchronized long finishedAt() {
    return finishedAt;
  }

  /**
   * The next part, waiting for it until {@code deadlineNanos} (a {@link System#nanoTime} value); null once the
   * last part has been taken, or the dump was closed. The caller releases it.
   *
   * @throws IllegalStateException when the request failed, or on timeout or interruption
   */
  synchronized ByteBuf take(long deadlineNanos) {
    while (parts.isEmpty()) {
      if (closed) {
        return null;
      }
      if (finished) {
        if (failure != null) {
          Throwable t = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
              ? failure.getCause() : failure;
          throw new IllegalStateException(t.getMessage() != null ? t.getMessage() : t.toString(), t);
        }
        return null;
      }
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        throw new IllegalStateException("flow dump not complete in time", new TimeoutException());
      }
      try {
        wait(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while reading the flow dump", e);
      }
    }
    return parts.poll();
  }

  /** Releases every queued part, and every part that still arrives. */
  synchronized void close() {
    closed = true;
    for (ByteBuf b; (b = parts.poll()) != null; ) {
      b.release();
    }
  }
}
