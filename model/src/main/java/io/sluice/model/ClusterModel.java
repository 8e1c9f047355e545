package io.sluice.model;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The current objects, changed only by {@link #apply} (one writer at a time), handed out as generation-numbered
 * immutable snapshots. Every applied batch that changes something is one new generation.
 */
public final class ClusterModel {
  private final Map<String, Namespace> namespaces = new HashMap<>();
  private final Map<ObjectRef, Pod> pods = new HashMap<>();
  private final Map<ObjectRef, PortBinding> bindings = new HashMap<>();
  private final List<Consumer<Snapshot>> listeners = new CopyOnWriteArrayList<>();
  private volatile Snapshot current;

  public ClusterModel(long firstGeneration) {
    current = new Snapshot(firstGeneration, Map.of(), Map.of(), Map.of());
  }

  public Snapshot snapshot() {
    return current;
  }

  public long generation() {
    return current.generation();
  }

  /** Listeners hear about each new snapshot, on the applying thread. */
  public void subscribe(Consumer<Snapshot> listener) {
    listeners.add(listener);
  }

  /** Applies a batch as one generation; returns the snapshot (unchanged if nothing changed). */
  public synchronized Snapshot apply(List<? extends ModelEvent> events) {
    boolean changed = false;
    for (ModelEvent e : events) {
      changed |= applyOne(e);
    }
    if (!changed) {
      return current;
    }
    current = new Snapshot(current.generation() + 1, namespaces, pods, bindings);
    for (Consumer<Snapshot> l : listeners) {
      l.accept(current);
    }
    return current;
  }

  /** Starts a new generation without any object changing (e.g. a forced re-render). */
  public synchronized Snapshot bump() {
    current = new Snapshot(current.generation() + 1, namespaces, pods, bindings);
    for (Consumer<Snapshot> l : new ArrayList<>(listeners)) {
      l.accept(current);
    }
    return current;
  }

  private boolean applyOne(ModelEvent e) {
    if (e instanceof ModelEvent.NamespaceUpserted n) {
      return !Objects.equals(namespaces.put(n.namespace().name(), n.namespace()), n.namespace());
    } else if (e instanceof ModelEvent.NamespaceDeleted n) {
      return namespaces.remove(n.name()) != null;
    } else if (e instanceof ModelEvent.PodUpserted p) {
      return !Objects.equals(pods.put(p.pod().ref(), p.pod()), p.pod());
    } else if (e instanceof ModelEvent.PodDeleted p) {
      return pods.remove(p.ref()) != null;
    } else if (e instanceof ModelEvent.PortBound b) {
      return !Objects.equals(bindings.put(b.binding().pod(), b.binding()), b.binding());
    } else if (e instanceof ModelEvent.PortUnbound u) {
      return bindings.remove(u.pod()) != null;
    }
    throw new IllegalArgumentException("unknown event " + e);
  }
}
