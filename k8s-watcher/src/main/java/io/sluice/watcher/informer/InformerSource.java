package io.sluice.watcher.informer;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.SharedInformerFactory;
import io.sluice.model.ModelEvent;
import io.sluice.model.source.EventSink;
import io.sluice.model.source.Source;
import io.sluice.model.source.SourceError;
import io.sluice.watcher.convert.Converted;
import io.sluice.watcher.convert.FieldError;
import io.sluice.watcher.convert.ObjectConverter;
import io.sluice.watcher.convert.ObjectKey;
import io.sluice.watcher.convert.ObjectKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kubernetes API as a {@link Source}: one fabric8 {@link SharedInformerFactory} with an informer per kind Sluice
 * reads (Namespaces, Nodes, Pods, Services, EndpointSlices, NetworkPolicies), converted by the same
 * {@link ObjectConverter} as the manifest directory, so both deliver the same events for the same objects.
 *
 * <ul>
 *   <li>Nothing reaches the sink until every informer has listed once; then the whole listed state is handed over as
 *       one batch (one generation: never a half-synced view that opens or closes traffic by accident), and
 *       {@link #ready()} turns true. {@link #status()} says which informers have not synced.</li>
 *   <li>Later changes are collected for {@code batchWindow} after the last one (at most {@code maxBatchDelay}) and
 *       handed over as one batch. An object whose converted form did not change (a status heartbeat, a re-list after
 *       a lost watch) yields no event, so a reconnect pushes only the difference.</li>
 *   <li>A lost API connection keeps the last state in force; the informers retry with exponential backoff (the
 *       client's watch reconnect interval, doubled up to its limit) forever. {@link #status()} shows which are not
 *       watching, and one log line is written when the connection is lost and one when it is back.</li>
 *   <li>An object the converter refuses is listed in {@link #errors()} (file {@code informer:<resource>}) and given
 *       to the error listener (Kubernetes Events, see {@link ObjectEvents}); its last valid version stays in force,
 *       as with a manifest file.</li>
 *   <li>The informers' caches hold name, namespace, uid and resourceVersion only ({@link StubStore}).</li>
 *   <li>Objects are converted on a few threads of their own ({@link #CONVERTER_THREADS}), not on the informer's one
 *       handler thread per kind: at start-up the 10,000 pods of one list would otherwise be converted one after
 *       another while the other core waits. An object always goes to the same thread (by namespace and name), so its
 *       changes reach the dispatcher in the order the informer saw them; a list's end is passed on once every thread
 *       has converted what came before it.</li>
 * </ul>
 */
public final class InformerSource implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(InformerSource.class);

  /** How changes are batched: quiet time after the last change, and the longest a change waits. */
  public record Settings(Duration batchWindow, Duration maxBatchDelay) {
    public static final Settings DEFAULT = new Settings(Duration.ofMillis(5), Duration.ofMillis(100));
  }

  /** One informer's state, as {@code /readyz} and {@code /api/v1/sources} show it. */
  public record InformerStatus(String resource, boolean synced, boolean watching, int objects, String lastError,
                               Instant lastErrorAt) { }

  /** A converted change, queued by the informers' handler threads for the dispatcher. */
  private record Change(ObjectKind kind, ObjectKey key, Converted converted, String uid, String resourceVersion) {
    boolean deleted() {
      return converted == null;
    }
  }

  /** Marks that an informer finished a list (its adds are queued before this). */
  private record Listed(ObjectKind kind) { }

  /** Threads converting objects: as many as there are processors, at most 4. */
  static final int CONVERTER_THREADS = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));

  private final KubernetesClient client;
  private final Settings settings;
  private final ObjectConverter converter = new ObjectConverter();
  private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
  private final Map<ObjectKind, SharedIndexInformer<? extends HasMetadata>> informers = new EnumMap<>(ObjectKind.class);
  private final Map<ObjectKind, String> lastErrors = new ConcurrentHashMap<>();
  private final Map<ObjectKind, Instant> lastErrorTimes = new ConcurrentHashMap<>();
  private final Map<ObjectKind, Boolean> listed = new ConcurrentHashMap<>();
  /** The valid value in force per object (dispatcher thread only). */
  private final Map<ObjectKey, Object> current = new HashMap<>();
  /** The refused objects' errors (dispatcher thread only); published through {@link #errors}. */
  private final Map<ObjectKey, List<SourceError>> refused = new HashMap<>();
  private final Consumer<ObjectEvents.Refusal> onRefused;
  private SharedInformerFactory factory;
  /** One single-threaded executor per converter thread; an object's changes always go to the same one. */
  private ExecutorService[] converters;
  private Thread dispatcher;
  private EventSink sink;
  private volatile boolean running;
  private volatile boolean ready;
  private volatile boolean connected = true;
  private long downSince;
  private volatile List<SourceError> errors = List.of();

  /**
   * @param client    the API client (its config decides the server, credentials and reconnect backoff)
   * @param onRefused told about each newly refused object (or a changed reason), e.g. {@link ObjectEvents#report};
   *                  called on the dispatcher thread, must not block
   */
  public InformerSource(KubernetesClient client, Settings settings, Consumer<ObjectEvents.Refusal> onRefused) {
    this.client = Objects.requireNonNull(client, "client");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.onRefused = Objects.requireNonNull(onRefused, "onRefused");
  }

  public InformerSource(KubernetesClient client) {
    this(client, Settings.DEFAULT, r -> { });
  }

  /** The plural resource name of a kind, as the API and RBAC rules name it. */
  public static String resource(ObjectKind kind) {
    return switch (kind) {
      case NAMESPACE -> "namespaces";
      case NODE -> "nodes";
      case POD -> "pods";
      case SERVICE -> "services";
      case ENDPOINT_SLICE -> "endpointslices";
      case NETWORK_POLICY -> "networkpolicies";
    };
  }

  /**
   * Starts one informer per kind and returns at once; the sink gets the whole state once every informer has listed,
   * then each change.
   */
  @Override
  public synchronized void start(EventSink sink) {
    if (this.sink != null) {
      throw new IllegalStateException("already started");
    }
    this.sink = Objects.requireNonNull(sink, "sink");
    running = true;
    factory = client.informers();
    converters = new ExecutorService[CONVERTER_THREADS];
    for (int i = 0; i < converters.length; i++) {
      String name = "sluice-informer-convert-" + i;
      converters[i] = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      });
    }
    for (ObjectKind kind : ObjectKind.values()) {
      informers.put(kind, inform(kind, kind.fabric8Class()));
    }
    dispatcher = new Thread(this::dispatch, "sluice-informer-dispatch");
    dispatcher.setDaemon(true);
    dispatcher.start();
    factory.startAllRegisteredInformers();
    LOG.info("Kubernetes API {}: watching {} (no flow changes until each has listed once; see /readyz)",
        client.getConfiguration().getMasterUrl(), informers.keySet().stream().map(InformerSource::resource).toList());
  }

  private <T extends HasMetadata> SharedIndexInformer<T> inform(ObjectKind kind, Class<T> type) {
    SharedIndexInformer<T> informer = factory.sharedIndexInformerFor(type, 0);
    informer.itemStore(new StubStore<>(type));
    informer.exceptionHandler((started, t) -> {
      lastErrors.put(kind, oneLine(t));
      lastErrorTimes.put(kind, Instant.now());
      return running; // keep retrying with backoff while we run; the last state stays in force meanwhile
    });
    informer.addEventHandler(new ResourceEventHandler<T>() {
      @Override
      public void onAdd(T obj) {
        convert(kind, obj, false);
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        convert(kind, newObj, false);
      }

      @Override
      public void onDelete(T obj, boolean finalStateUnknown) {
        convert(kind, obj, true);
      }

      @Override
      public void onList(String resourceVersion, boolean remainedEmpty) {
        listed(kind);
      }
    });
    return informer;
  }

  /**
   * Queues the object's conversion on its converter thread (chosen by namespace and name, so its later changes follow
   * it in order); the converted change then goes to the dispatcher and the full object can be dropped.
   */
  private void convert(ObjectKind kind, HasMetadata obj, boolean deleted) {
    var m = obj.getMetadata();
    int shard = m == null ? 0 : Math.floorMod(Objects.hash(m.getNamespace(), m.getName()), converters.length);
    submit(converters[shard], () -> {
      try {
        queue.add(change(kind, obj, deleted));
      } catch (RuntimeException e) {
        LOG.error("Kubernetes API: converting {} {} failed; it is ignored: {}", kind.kind(),
            m == null ? "" : m.getNamespace() + "/" + m.getName(), e.toString(), e);
      }
    });
  }

  /** Passes a list's end on once every converter thread has converted the objects the informer handed over before it. */
  private void listed(ObjectKind kind) {
    AtomicInteger left = new AtomicInteger(converters.length);
    for (ExecutorService c : converters) {
      submit(c, () -> {
        if (left.decrementAndGet() == 0) {
          queue.add(new Listed(kind));
        }
      });
    }
  }

  private void submit(ExecutorService converter, Runnable task) {
    try {
      converter.execute(task);
    } catch (RejectedExecutionException e) {
      if (isRunning()) {
        throw e;
      }
      // stopping: the converters are shut down and the change no longer matters
    }
  }

  private Change change(ObjectKind kind, HasMetadata obj, boolean deleted) {
    var m = obj.getMetadata();
    String ns = m == null ? null : m.getNamespace();
    String name = m == null ? null : m.getName();
    ObjectKey key = ObjectConverter.keyOf(kind, ns, name);
    String uid = m == null ? null : m.getUid();
    String rv = m == null ? null : m.getResourceVersion();
    return new Change(kind, key, deleted ? null : converter.convert(obj), uid, rv);
  }

  private synchronized boolean isRunning() {
    return running;
  }

  private void dispatch() {
    Map<ObjectKey, Change> pending = new LinkedHashMap<>();
    while (running) {
      try {
        if (!ready) {
          take(pending, 50);
          if (listed.size() == informers.size()) {
            ready = true; // before the sink has the first state, so whoever holds it also sees ready()
            deliver(pending, true);
          }
        } else {
          if (!take(pending, 200)) {
            watchConnection();
            continue;
          }
          long deadline = System.nanoTime() + settings.maxBatchDelay().toNanos();
          long window = Math.max(1, settings.batchWindow().toNanos());
          while (System.nanoTime() < deadline && take(pending, TimeUnit.NANOSECONDS.toMillis(window) + 1)) {
            // collect until quiet for the window
          }
          deliver(pending, false);
          watchConnection();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        if (!isRunning()) {
          return; // stopping: the informers were stopped under us (fabric8 may throw from a stopped one)
        }
        // One bad change must not stop the others: drop it (logged) and go on with the next ones.
        LOG.error("Kubernetes API: applying {} changes failed and they were dropped; later changes still apply: {}",
            pending.size(), e.toString(), e);
        pending.clear();
      }
    }
  }

  /** Waits up to {@code millis} for one item, then drains what is queued; false if nothing came. */
  private boolean take(Map<ObjectKey, Change> pending, long millis) throws InterruptedException {
    Object first = queue.poll(millis, TimeUnit.MILLISECONDS);
    if (first == null) {
      return false;
    }
    List<Object> more = new ArrayList<>();
    more.add(first);
    queue.drainTo(more);
    for (Object o : more) {
      if (o instanceof Change c) {
        if (c.key() != null) {
          pending.remove(c.key()); // keep arrival order of the newest change per object
          pending.put(c.key(), c);
        }
      } else if (o instanceof Listed l) {
        listed.put(l.kind(), true);
      }
    }
    return true;
  }

  /** Applies the pending changes to {@link #current} and hands the net events over as one batch. */
  private void deliver(Map<ObjectKey, Change> pending, boolean initial) {
    Map<ObjectKind, List<ModelEvent>> upserts = new EnumMap<>(ObjectKind.class);
    Map<ObjectKind, List<ModelEvent>> deletes = new EnumMap<>(ObjectKind.class);
    boolean errorsChanged = false;
    for (Change c : pending.values()) {
      ObjectKey k = c.key();
      if (c.deleted()) {
        errorsChanged |= refused.remove(k) != null;
        if (current.remove(k) != null) {
          deletes.computeIfAbsent(k.kind(), x -> new ArrayList<>()).add(k.kind().delete(k.ref()));
        }
      } else if (c.converted().valid()) {
        errorsChanged |= refused.remove(k) != null;
        Object v = c.converted().value();
        if (!v.equals(current.put(k, v))) {
          upserts.computeIfAbsent(k.kind(), x -> new ArrayList<>()).add(k.kind().upsert(v));
        }
      } else {
        List<SourceError> errs = new ArrayList<>();
        for (FieldError e : c.converted().errors()) {
          errs.add(new SourceError("informer:" + resource(k.kind()), -1, 0, k.kind().kind(), k.ref().namespace(),
              k.ref().name(), e.field(), e.reason()));
        }
        List<SourceError> was = refused.put(k, List.copyOf(errs));
        if (!errs.equals(was)) {
          errorsChanged = true;
          String message = String.join("; ", errs.stream().map(SourceError::message).toList());
          LOG.warn("{} {} refused{}: {}", k.kind().kind(), k.ref(), current.containsKey(k)
              ? " (its last valid version stays in force)" : "", message);
          onRefused.accept(new ObjectEvents.Refusal(k.kind(), k.ref().namespace(), k.ref().name(), c.uid(),
              c.resourceVersion(), message));
        }
      }
    }
    pending.clear();
    if (errorsChanged) {
      List<SourceError> all = new ArrayList<>();
      refused.values().forEach(all::addAll);
      all.sort(Comparator.comparing(SourceError::file).thenComparing(SourceError::namespace)
          .thenComparing(SourceError::name).thenComparing(SourceError::field));
      errors = List.copyOf(all);
    }
    List<ModelEvent> batch = new ArrayList<>();
    upserts.values().forEach(batch::addAll);
    List<ObjectKind> kinds = new ArrayList<>(deletes.keySet());
    Collections.reverse(kinds);
    kinds.forEach(kind -> batch.addAll(deletes.get(kind)));
    if (initial) {
      Map<ObjectKind, Integer> counts = new EnumMap<>(ObjectKind.class);
      current.keySet().forEach(k -> counts.merge(k.kind(), 1, Integer::sum));
      LOG.info("Kubernetes API: every informer has listed; first state {} objects {} ({} refused)", current.size(),
          counts, refused.size());
    }
    if (!batch.isEmpty() || initial) {
      sink.accept(batch);
    }
  }

  /**
   * One log line when the API connection is lost (a watch down for a second: the API server closes watches every few
   * minutes and the informer re-opens them at once), one when every watch is back.
   */
  private void watchConnection() {
    boolean all = informers.values().stream().allMatch(SharedIndexInformer::isWatching);
    long now = System.nanoTime();
    if (all) {
      downSince = 0;
    } else if (downSince == 0) {
      downSince = now;
    }
    if (!all && now - downSince < TimeUnit.SECONDS.toNanos(1)) {
      return;
    }
    if (all != connected) {
      connected = all;
      if (all) {
        LOG.info("Kubernetes API: watching again; changes made meanwhile are applied as a difference");
      } else {
        List<String> down = status().stream().filter(s -> !s.watching()).map(s -> s.resource()
            + (s.lastError() == null ? "" : " (" + s.lastError() + ")")).toList();
        LOG.warn("Kubernetes API: lost the watch on {}; the last state stays enforced, retrying with backoff", down);
      }
    }
  }

  @Override
  public void stop() {
    Thread d;
    synchronized (this) {
      if (!running) {
        return;
      }
      running = false;
      d = dispatcher;
    }
    if (factory != null) {
      factory.stopAllRegisteredInformers();
    }
    if (converters != null) {
      for (ExecutorService c : converters) {
        c.shutdownNow();
      }
    }
    if (d != null) {
      d.interrupt();
      try {
        d.join(5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public List<SourceError> errors() {
    return errors;
  }

  @Override
  public boolean ready() {
    return ready;
  }

  /** Per informer: listed once, watching now, cached objects, last error. */
  public List<InformerStatus> status() {
    List<InformerStatus> out = new ArrayList<>();
    informers.forEach((kind, inf) -> out.add(new InformerStatus(resource(kind), listed.containsKey(kind),
        inf.isWatching(), inf.getStore().list().size(), lastErrors.get(kind), lastErrorTimes.get(kind))));
    return out;
  }

  /** Null when every informer has synced and is watching; else which are not, for {@code /readyz}. */
  public String notReadyReason() {
    if (!ready) {
      List<String> missing = status().stream().filter(s -> !s.synced())
          .map(s -> s.resource() + (s.lastError() == null ? "" : " (" + s.lastError() + ")")).toList();
      return "Kubernetes informers not synced yet: " + (missing.isEmpty() ? "first state being applied" : missing);
    }
    if (connected) {
      return null;
    }
    List<String> down = status().stream().filter(s -> !s.watching())
        .map(s -> s.resource() + (s.lastError() == null ? "" : " (" + s.lastError() + ")")).toList();
    return "Kubernetes API watch lost" + (down.isEmpty() ? "" : " for " + down) + "; the last state stays enforced";
  }

  private static String oneLine(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    m = m.replaceAll("[\\r\\n\\t]+", " ");
    return m.length() > 200 ? m.substring(0, 200) + "..." : m;
  }
}
