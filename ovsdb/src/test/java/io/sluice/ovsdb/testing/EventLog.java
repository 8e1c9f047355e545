package io.sluice.ovsdb.testing;

import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.source.EventSink;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

/** A sink that records model events (optionally only some pods) and lets tests wait for them. */
public final class EventLog implements EventSink {
  private final List<ModelEvent> events = new ArrayList<>();
  private final List<Long> arrivals = new ArrayList<>();
  private final Predicate<ObjectRef> filter;
  private int taken;

  public EventLog(Predicate<ObjectRef> filter) {
    this.filter = filter;
  }

  public EventLog() {
    this(p -> true);
  }

  public static ObjectRef podOf(ModelEvent e) {
    if (e instanceof ModelEvent.PortBound b) {
      return b.binding().pod();
    }
    if (e instanceof ModelEvent.PortUnbound u) {
      return u.pod();
    }
    return null;
  }

  @Override
  public synchronized void accept(List<ModelEvent> batch) {
    long now = System.nanoTime();
    for (ModelEvent e : batch) {
      ObjectRef pod = podOf(e);
      if (pod != null && filter.test(pod)) {
        events.add(e);
        arrivals.add(now);
      }
    }
    notifyAll();
  }

  /** Waits until at least {@code n} events arrived since the last take, then returns (and consumes) them. */
  public synchronized List<ModelEvent> take(int n, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (events.size() - taken < n) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("expected " + n + " more events within " + timeout + ", got "
            + events.subList(taken, events.size()));
      }
      wait(Math.max(1, left / 1_000_000));
    }
    List<ModelEvent> out = new ArrayList<>(events.subList(taken, events.size()));
    taken = events.size();
    return out;
  }

  /** Events that arrived since the last take, without waiting. */
  public synchronized List<ModelEvent> drain() {
    List<ModelEvent> out = new ArrayList<>(events.subList(taken, events.size()));
    taken = events.size();
    return out;
  }

  /** Waits until an event matching {@code p} arrives; returns its arrival time (System.nanoTime). */
  public synchronized long awaitMatch(Predicate<ModelEvent> p, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int from = taken;
    while (true) {
      for (int i = from; i < events.size(); i++) {
        if (p.test(events.get(i))) {
          return arrivals.get(i);
        }
      }
      from = events.size();
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError("no matching event within " + timeout);
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }

  public static void await(BooleanSupplier cond, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out after " + timeout + " waiting for " + what);
      }
      Thread.sleep(10);
    }
  }
}
