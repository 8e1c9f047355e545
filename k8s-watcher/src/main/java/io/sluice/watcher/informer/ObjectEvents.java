package io.sluice.watcher.informer;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sluice.watcher.convert.ObjectConverter;
import io.sluice.watcher.convert.ObjectKind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports objects Sluice cannot realize as Kubernetes Events on the object ({@code kubectl describe} shows them):
 * type Warning, reason {@value #REASON}, the message {@code /api/v1/errors} shows, source component {@code sluice}.
 *
 * <p>Rate-limited twice: one Event per object and message per {@code perObject} interval, and at most {@code burst}
 * Events per {@code perObject} interval in all (the rest are counted in {@link #suppressed()}). Events are written on
 * one background thread with a small bounded queue, so a slow or failing API server never holds the informers up;
 * a failed write is logged once per interval.
 */
public final class ObjectEvents {
  private static final Logger LOG = LoggerFactory.getLogger(ObjectEvents.class);
  public static final String REASON = "SluiceRefused";
  public static final String COMPONENT = "sluice";
  private static final int MAX_TRACKED = 10_000;

  /** One refused object: what to point the Event at, and why. */
  public record Refusal(ObjectKind kind, String namespace, String name, String uid, String resourceVersion,
                        String message) { }

  private final KubernetesClient client;
  private final Duration perObject;
  private final int burst;
  private final Clock clock;
  private final ThreadPoolExecutor writer;
  /** When each (object, message) was last reported; insertion-ordered so the oldest are dropped first. */
  private final Map<String, Instant> reported = new LinkedHashMap<>();
  private Instant windowStart = Instant.EPOCH;
  private int inWindow;
  private Instant lastFailureLog = Instant.EPOCH;
  private final AtomicLong sent = new AtomicLong();
  private final AtomicLong suppressed = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();

  public ObjectEvents(KubernetesClient client) {
    this(client, Duration.ofMinutes(5), 50, Clock.systemUTC());
  }

  public ObjectEvents(KubernetesClient client, Duration perObject, int burst, Clock clock) {
    this.client = Objects.requireNonNull(client, "client");
    this.perObject = perObject;
    this.burst = burst;
    this.clock = clock;
    this.writer = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(100), r -> {
      Thread t = new Thread(r, "sluice-k8s-events");
      t.setDaemon(true);
      return t;
    }, (r, pool) -> suppressed.incrementAndGet());
  }

  /** Reports one refusal, unless the same was reported within the interval or the budget is spent. */
  public synchronized void report(Refusal r) {
    Instant now = clock.instant();
    String key = r.kind() + "/" + r.namespace() + "/" + r.name() + "\n" + r.message();
    Instant last = reported.get(key);
    if (last != null && Duration.between(last, now).compareTo(perObject) < 0) {
      suppressed.incrementAndGet();
      return;
    }
    if (Duration.between(windowStart, now).compareTo(perObject) >= 0) {
      windowStart = now;
      inWindow = 0;
    }
    if (inWindow >= burst) {
      suppressed.incrementAndGet();
      return;
    }
    inWindow++;
    reported.remove(key);
    reported.put(key, now);
    if (reported.size() > MAX_TRACKED) {
      reported.remove(reported.keySet().iterator().next());
    }
    Event event = event(r, now);
    writer.execute(() -> write(event));
  }

  /** The Event for a refusal, in the object's namespace (cluster-scoped objects: {@code default}, as kubectl does). */
  Event event(Refusal r, Instant now) {
    String ns = r.kind().namespaced() ? r.namespace() : ObjectConverter.DEFAULT_NAMESPACE;
    String time = DateTimeFormatter.ISO_INSTANT.format(now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    String message = r.message().length() > 1000 ? r.message().substring(0, 1000) + "..." : r.message();
    return new EventBuilder()
        .withNewMetadata()
          .withName(r.name() + "." + Long.toHexString(now.toEpochMilli() * 1_000_000L + now.getNano() % 1_000_000))
          .withNamespace(ns)
        .endMetadata()
        .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion(r.kind().apiVersion())
            .withKind(r.kind().kind()).withNamespace(r.kind().namespaced() ? r.namespace() : null)
            .withName(r.name()).withUid(r.uid()).withResourceVersion(r.resourceVersion()).build())
        .withType("Warning")
        .withReason(REASON)
        .withMessage(message)
        .withNewSource().withComponent(COMPONENT).endSource()
        .withReportingComponent(COMPONENT)
        .withFirstTimestamp(time)
        .withLastTimestamp(time)
        .withCount(1)
        .build();
  }

  private void write(Event e) {
    try {
      client.v1().events().inNamespace(e.getMetadata().getNamespace()).resource(e).create();
      sent.incrementAndGet();
    } catch (RuntimeException ex) {
      failed.incrementAndGet();
      Instant now = clock.instant();
      boolean log;
      synchronized (this) {
        log = Duration.between(lastFailureLog, now).compareTo(perObject) >= 0;
        if (log) {
          lastFailureLog = now;
        }
      }
      if (log) {
        LOG.warn("Kubernetes API: could not create the Event for {} {}/{}: {} (check the create permission on events)",
            e.getInvolvedObject().getKind(), e.getInvolvedObject().getNamespace(), e.getInvolvedObject().getName(),
            ex.getMessage() == null ? ex.toString() : ex.getMessage().replaceAll("[\\r\\n]+", " "));
      }
    }
  }

  public long sent() {
    return sent.get();
  }

  public long suppressed() {
    return suppressed.get();
  }

  public long failed() {
    return failed.get();
  }

  /** Stops the writer; queued Events are dropped. */
  public void close() {
    writer.shutdownNow();
  }
}
