package io.sluice.ovsdb.ports;

import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the bindings of every OVSDB server (one per node) into one pod → binding map and turns each change of it
 * into {@link ModelEvent.PortBound} / {@link ModelEvent.PortUnbound} events, in order, on one delivery thread.
 * Only real changes are emitted: the same binding reported again (after a reconnect, say) emits nothing.
 * A pod reported by two servers (moving between nodes) keeps its current binding until the old one disappears.
 */
public final class BindingAggregator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BindingAggregator.class);

  private final Consumer<List<ModelEvent>> sink;
  private final ExecutorService delivery;
  /** Source key → its bindings; insertion-ordered so ties are broken by which source came first. */
  private final Map<String, Map<ObjectRef, PortBinding>> bySource = new LinkedHashMap<>();
  private final Map<ObjectRef, PortBinding> merged = new HashMap<>();
  private final Map<ObjectRef, String> owner = new HashMap<>();
  private long emitted;

  public BindingAggregator(Consumer<List<ModelEvent>> sink) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.delivery = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "sluice-ovsdb-events");
      t.setDaemon(true);
      return t;
    });
  }

  /** Replaces what {@code source} reports; emits the resulting changes. */
  public void update(String source, Map<ObjectRef, PortBinding> bindings) {
    synchronized (this) {
      bySource.put(source, Map.copyOf(bindings));
      deliver(recompute());
    }
  }

  /** Forgets {@code source} (its server is gone for good); its pods unbind unless another server has them. */
  public void remove(String source) {
    synchronized (this) {
      if (bySource.remove(source) == null) {
        return;
      }
      deliver(recompute());
    }
  }

  public synchronized Map<ObjectRef, PortBinding> current() {
    return Map.copyOf(merged);
  }

  public synchronized int count(String source) {
    Map<ObjectRef, PortBinding> b = bySource.get(source);
    return b == null ? 0 : b.size();
  }

  /** Events handed to the sink so far. */
  public synchronized long emitted() {
    return emitted;
  }

  private List<ModelEvent> recompute() {
    Map<ObjectRef, PortBinding> next = new HashMap<>();
    Map<ObjectRef, String> nextOwner = new HashMap<>();
    for (Map.Entry<String, Map<ObjectRef, PortBinding>> s : bySource.entrySet()) {
      for (Map.Entry<ObjectRef, PortBinding> e : s.getValue().entrySet()) {
        ObjectRef pod = e.getKey();
        String cur = nextOwner.get(pod);
        if (cur == null || (!cur.equals(owner.get(pod)) && s.getKey().equals(owner.get(pod)))) {
          next.put(pod, e.getValue());
          nextOwner.put(pod, s.getKey());
        }
      }
    }
    List<ModelEvent> events = new ArrayList<>();
    boolean detail = countChanges(next) <= DETAIL_LIMIT;
    // Sorted, so a batch reads the same way every time.
    Map<ObjectRef, PortBinding> gone = new TreeMap<>();
    merged.forEach((pod, b) -> {
      if (!next.containsKey(pod)) {
        gone.put(pod, b);
      }
    });
    gone.forEach((pod, b) -> {
      events.add(new ModelEvent.PortUnbound(pod));
      log(detail, "pod {} unbound (was dpid {} ofport {} via {})", pod, dpidText(b.dpid()), b.ofport(), owner.get(pod));
    });
    new TreeMap<>(next).forEach((pod, b) -> {
      PortBinding was = merged.get(pod);
      if (!b.equals(was)) {
        events.add(new ModelEvent.PortBound(b));
        if (LOG.isInfoEnabled() || LOG.isDebugEnabled()) {
          log(detail, "pod {} bound to dpid {} ofport {} mac {} via {}{}", pod, dpidText(b.dpid()), b.ofport(),
              b.mac().isEmpty() ? "(unknown)" : b.mac(), nextOwner.get(pod),
              was == null ? "" : " (was dpid " + dpidText(was.dpid()) + " ofport " + was.ofport() + ")");
        }
      }
    });
    if (!detail) {
      long bound = events.stream().filter(ModelEvent.PortBound.class::isInstance).count();
      LOG.info("{} pods bound or rebound, {} unbound, {} bound in total", bound, events.size() - bound, next.size());
    }
    merged.clear();
    merged.putAll(next);
    owner.clear();
    owner.putAll(nextOwner);
    emitted += events.size();
    return events;
  }

  private static final int DETAIL_LIMIT = 32;

  private int countChanges(Map<ObjectRef, PortBinding> next) {
    int n = 0;
    for (ObjectRef pod : merged.keySet()) {
      if (!next.containsKey(pod) && ++n > DETAIL_LIMIT) {
        return n;
      }
    }
    for (Map.Entry<ObjectRef, PortBinding> e : next.entrySet()) {
      if (!e.getValue().equals(merged.get(e.getKey())) && ++n > DETAIL_LIMIT) {
        return n;
      }
    }
    return n;
  }

  private static void log(boolean info, String format, Object... args) {
    if (info) {
      LOG.info(format, args);
    } else {
      LOG.debug(format, args);
    }
  }

  static String dpidText(long dpid) {
    return String.format("%016x", dpid);
  }

  private void deliver(List<ModelEvent> events) {
    if (events.isEmpty()) {
      return;
    }
    List<ModelEvent> batch = List.copyOf(events);
    delivery.execute(() -> {
      try {
        sink.accept(batch);
      } catch (RuntimeException e) {
        LOG.error("binding event sink failed on a batch of {} events", batch.size(), e);
      }
    });
  }

  @Override
  public void close() {
    delivery.shutdown();
  }
}
