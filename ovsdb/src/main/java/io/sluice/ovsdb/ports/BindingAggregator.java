package io.sluice.ovsdb.ports;

import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.SwitchPorts;
import io.sluice.model.source.EventSink;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges the bindings of every OVSDB server (one per node) into one pod → binding map and turns each change of it
 * into {@link ModelEvent.PortBound} / {@link ModelEvent.PortUnbound} events, in order, on one delivery thread.
 * Only real changes are emitted: the same binding reported again (after a reconnect, say) emits nothing.
 * A pod reported by two servers (moving between nodes) keeps its current binding until the old one disappears.
 *
 * <p>A switch belongs to the first server that reports its bridge (datapath id) among its ports; while it does, a
 * binding another server reports on that switch is refused (logged once per server and switch): a server speaks only
 * for its own bridges, so one that claims another node's datapath id cannot rebind that node's pods.
 */
public final class BindingAggregator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BindingAggregator.class);

  private final EventSink sink;
  private final ExecutorService delivery;
  private volatile Thread deliveryThread;
  /** Source key → its bindings; insertion-ordered so ties are broken by which source came first. */
  private final Map<String, Map<ObjectRef, PortBinding>> bySource = new LinkedHashMap<>();
  private final Map<ObjectRef, PortBinding> merged = new HashMap<>();
  /** Pod → the source its binding came from; empty while there is one source only ({@link #soleOwner}). */
  private final Map<ObjectRef, String> owner = new HashMap<>();
  /** The only source, when there is one: it owns every bound pod. */
  private String soleOwner;
  private long emitted;

  public BindingAggregator(EventSink sink) {
    this.sink = Objects.requireNonNull(sink, "sink");
    this.delivery = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "sluice-ovsdb-events");
      t.setDaemon(true);
      deliveryThread = t;
      return t;
    });
  }

  /** Replaces what {@code source} reports; emits the resulting changes. */
  public void update(String source, Map<ObjectRef, PortBinding> bindings) {
    synchronized (this) {
      Map<ObjectRef, PortBinding> was = bySource.get(source);
      if (was != null && was.equals(bindings)) {
        return; // the same bindings again (most monitor updates touch no binding): nothing can change
      }
      bySource.put(source, Map.copyOf(bindings));
      if (gone.remove(source)) {
        ownersChanged();
      }
      recomputeAndDeliver();
    }
  }

  /** Forgets {@code source} (its server is gone for good); its pods unbind unless another server has them. */
  public void remove(String source) {
    synchronized (this) {
      // its switches stay managed with the ports last reported: losing the server must not open closed pod ports
      if (bySource.remove(source) == null) {
        return;
      }
      gone.add(source); // ...but no longer owns them: a server that replaces it (a reinstalled node) may bind there
      ownersChanged();
      recomputeAndDeliver();
    }
  }

  /** Source key → the non-pod ports of each bridge it reports. */
  private final Map<String, Map<Long, SwitchPorts>> portsBySource = new LinkedHashMap<>();
  private final Map<Long, SwitchPorts> mergedPorts = new HashMap<>();
  /** Datapath id → the source that owns it: the first (in source order) whose ports report the bridge. */
  private Map<Long, String> dpidOwners = Map.of();
  /** Sources removed for good (their ports still close their bridges' pod ports, but they own nothing). */
  private final java.util.Set<String> gone = new java.util.HashSet<>();
  /** "source|dpid" of refusals already logged. */
  private final java.util.Set<String> refusalsLogged = new java.util.HashSet<>();

  /**
   * Replaces the non-pod ports {@code source} reports per bridge; emits {@link ModelEvent.SwitchPortsUpserted} for
   * each bridge whose set changed and {@link ModelEvent.SwitchPortsDeleted} for bridges no source reports any more.
   * A bridge reported by two servers takes the first one's set.
   */
  public void updatePorts(String source, Map<Long, SwitchPorts> ports) {
    synchronized (this) {
      Map<Long, SwitchPorts> was = portsBySource.get(source);
      if (was != null && was.equals(ports)) {
        return;
      }
      portsBySource.put(source, Map.copyOf(ports));
      gone.remove(source);
      deliverPorts();
      if (ownersChanged()) {
        recomputeAndDeliver();
      }
    }
  }

  /** Recomputes who owns each datapath id; true when that changed (bindings are then looked at again). */
  private boolean ownersChanged() {
    Map<Long, String> next = new HashMap<>();
    portsBySource.forEach((source, m) -> {
      if (!gone.contains(source)) {
        m.keySet().forEach(dpid -> next.putIfAbsent(dpid, source));
      }
    });
    if (next.equals(dpidOwners)) {
      return false;
    }
    dpidOwners = next;
    return true;
  }

  /** {@code bindings} without those on a switch another source owns (each refusal logged once). */
  private Map<ObjectRef, PortBinding> ownBindings(String source, Map<ObjectRef, PortBinding> bindings) {
    Map<ObjectRef, PortBinding> out = null;
    for (Map.Entry<ObjectRef, PortBinding> e : bindings.entrySet()) {
      String owner = dpidOwners.get(e.getValue().dpid());
      if (owner != null && !owner.equals(source)) {
        if (out == null) {
          out = new HashMap<>(bindings);
        }
        out.remove(e.getKey());
        if (refusalsLogged.size() < 10_000 && refusalsLogged.add(source + "|" + e.getValue().dpid())) {
          LOG.warn("OVSDB {}: reports pod {} on switch {}, whose bridge belongs to OVSDB {}: binding refused (a server "
              + "binds pods only on its own bridges; check the node's datapath-id)", source, e.getKey(),
              dpidText(e.getValue().dpid()), owner);
        }
      }
    }
    return out == null ? bindings : out;
  }

  private void deliverPorts() {
    Map<Long, SwitchPorts> next = new HashMap<>();
    portsBySource.values().forEach(m -> m.forEach(next::putIfAbsent));
    List<ModelEvent> events = new ArrayList<>();
    List<Runnable> logs = new ArrayList<>();
    for (Long dpid : new java.util.TreeSet<>(mergedPorts.keySet())) {
      if (!next.containsKey(dpid)) {
        events.add(new ModelEvent.SwitchPortsDeleted(dpid));
        logs.add(() -> LOG.info("switch {} is no longer in any OVSDB: its ports are no longer closed by default",
            dpidText(dpid)));
      }
    }
    for (Long dpid : new java.util.TreeSet<>(next.keySet())) {
      SwitchPorts p = next.get(dpid);
      SwitchPorts old = mergedPorts.get(dpid);
      if (!p.equals(old)) {
        events.add(new ModelEvent.SwitchPortsUpserted(p));
        logs.add(() -> LOG.info("switch {}: {} non-pod port(s) {}{}", dpidText(dpid), p.openPorts().size(),
            new java.util.TreeSet<>(p.openPorts()), old == null ? " (managed: other ports open only for known pods)" : ""));
      }
    }
    mergedPorts.clear();
    mergedPorts.putAll(next);
    emitted += events.size();
    deliver(events, logs);
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

  /**
   * Merges every source, diffs against what was emitted, and hands the changes to the delivery thread. Only the
   * changed pods are sorted, and the log lines are written on the delivery thread after the sink has the batch, so
   * a binding is not held up by console output.
   */
  private void recomputeAndDeliver() {
    Map<ObjectRef, PortBinding> next;
    Map<ObjectRef, String> nextOwner;
    String nextSoleOwner = null;
    if (bySource.size() == 1) {
      Map.Entry<String, Map<ObjectRef, PortBinding>> only = bySource.entrySet().iterator().next();
      next = ownBindings(only.getKey(), only.getValue());
      nextOwner = null; // every pod belongs to the one source
      nextSoleOwner = only.getKey();
    } else {
      next = new HashMap<>();
      nextOwner = new HashMap<>();
      for (Map.Entry<String, Map<ObjectRef, PortBinding>> s : bySource.entrySet()) {
        for (Map.Entry<ObjectRef, PortBinding> e : ownBindings(s.getKey(), s.getValue()).entrySet()) {
          ObjectRef pod = e.getKey();
          String cur = nextOwner.get(pod);
          String was = ownerOf(pod);
          if (cur == null || (!cur.equals(was) && s.getKey().equals(was))) {
            next.put(pod, e.getValue());
            nextOwner.put(pod, s.getKey());
          }
        }
      }
    }
    // Sorted, so a batch reads the same way every time.
    List<ObjectRef> gone = new ArrayList<>();
    for (ObjectRef pod : merged.keySet()) {
      if (!next.containsKey(pod)) {
        gone.add(pod);
      }
    }
    List<ObjectRef> bound = new ArrayList<>();
    for (Map.Entry<ObjectRef, PortBinding> e : next.entrySet()) {
      if (!e.getValue().equals(merged.get(e.getKey()))) {
        bound.add(e.getKey());
      }
    }
    Collections.sort(gone);
    Collections.sort(bound);
    List<ModelEvent> events = new ArrayList<>(gone.size() + bound.size());
    List<Runnable> logs = new ArrayList<>();
    boolean detail = gone.size() + bound.size() <= DETAIL_LIMIT;
    boolean logging = LOG.isInfoEnabled() || LOG.isDebugEnabled();
    for (ObjectRef pod : gone) {
      events.add(new ModelEvent.PortUnbound(pod));
      if (logging) {
        PortBinding b = merged.get(pod);
        String via = ownerOf(pod);
        logs.add(() -> log(detail, "pod {} unbound (was dpid {} ofport {} via {})", pod, dpidText(b.dpid()),
            b.ofport(), via));
      }
    }
    for (ObjectRef pod : bound) {
      PortBinding b = next.get(pod);
      events.add(new ModelEvent.PortBound(b));
      if (logging) {
        PortBinding was = merged.get(pod);
        String via = nextOwner == null ? nextSoleOwner : nextOwner.get(pod);
        logs.add(() -> log(detail, "pod {} bound to dpid {} ofport {} mac {} via {}{}", pod, dpidText(b.dpid()),
            b.ofport(), b.mac().isEmpty() ? "(unknown)" : b.mac(), via,
            was == null ? "" : " (was dpid " + dpidText(was.dpid()) + " ofport " + was.ofport() + ")"));
      }
    }
    if (!detail) {
      int total = next.size();
      logs.add(() -> LOG.info("{} pods bound or rebound, {} unbound, {} bound in total", bound.size(), gone.size(),
          total));
    }
    merged.clear();
    merged.putAll(next);
    owner.clear();
    if (nextOwner != null) {
      owner.putAll(nextOwner);
    }
    soleOwner = nextSoleOwner;
    emitted += events.size();
    deliver(events, logs);
  }

  /** The source a pod's current (emitted) binding came from. */
  private String ownerOf(ObjectRef pod) {
    return soleOwner != null && merged.containsKey(pod) ? soleOwner : owner.get(pod);
  }

  private static final int DETAIL_LIMIT = 32;

  private static void log(boolean info, String format, Object... args) {
    if (info) {
      LOG.info(format, args);
    } else {
      LOG.debug(format, args);
    }
  }

  /** As the OpenFlow side and the status API write a datapath id ({@code 00:00:00:00:00:00:5d:01}), so one grep finds both. */
  static String dpidText(long dpid) {
    StringBuilder b = new StringBuilder(23);
    for (int shift = 56; shift >= 0; shift -= 8) {
      if (b.length() > 0) {
        b.append(':');
      }
      b.append(Character.forDigit((int) (dpid >>> shift) >> 4 & 0xf, 16)).append(Character.forDigit((int) (dpid >>> shift) & 0xf, 16));
    }
    return b.toString();
  }

  private void deliver(List<ModelEvent> events, List<Runnable> logs) {
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
      logs.forEach(Runnable::run);
    });
  }

  /**
   * Delivers the batches already queued (waiting up to 5 s for the sink), then stops: no sink call starts after this
   * returns, except when called from the sink itself.
   */
  @Override
  public void close() {
    delivery.shutdown();
    if (Thread.currentThread() == deliveryThread) {
      return;
    }
    try {
      if (!delivery.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warn("OVSDB event sink still busy after 5 s; {} queued batches dropped", delivery.shutdownNow().size());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
