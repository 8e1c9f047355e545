package io.sluice.ovsdb;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.util.concurrent.ScheduledFuture;
import io.sluice.ovsdb.OvsdbStatus.State;
import io.sluice.ovsdb.cache.DbSchema;
import io.sluice.ovsdb.cache.OvsdbCache;
import io.sluice.ovsdb.ports.BindingAggregator;
import io.sluice.ovsdb.ports.Bindings;
import io.sluice.ovsdb.rpc.Json;
import io.sluice.ovsdb.rpc.NotificationListener;
import io.sluice.ovsdb.rpc.OvsdbClient;
import io.sluice.ovsdb.rpc.RpcException;
import io.sluice.ovsdb.rpc.Transport;
import io.sluice.ovsdb.rpc.UpdateKind;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.SwitchPorts;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ovsdb-server: connect (active endpoints) or accept (passive), read the schema, monitor the tables, keep the
 * cache, publish bindings; on loss, back off exponentially and connect again, resuming the monitor with
 * {@code monitor_cond_since} so only what changed meanwhile is sent. Falls back to {@code monitor_cond}, then to
 * RFC 7047 {@code monitor}, when the server lacks the newer methods.
 *
 * <p>Bindings survive a lost connection: they are kept until the server is back and says otherwise, so a restart of
 * ovsdb-server neither unbinds nor rebinds a pod that did not move.
 */
final class NodeSession implements NotificationListener {
  private static final Logger LOG = LoggerFactory.getLogger(NodeSession.class);
  static final String DB = "Open_vSwitch";
  static final JsonNode MONITOR_ID = Json.NODES.textNode("sluice");
  private static final String ZERO_TXN = "00000000-0000-0000-0000-000000000000";

  enum MonitorMethod { COND_SINCE, COND, PLAIN }

  private final OvsdbEndpoint endpoint;
  private final String name;
  private final Transport transport;
  private final OvsdbSource.Options options;
  private final BindingAggregator aggregator;
  private final OvsdbCache cache;
  private final Runnable onPassiveEnd;
  private final SystemIds systemIds;
  /** Holds its system-id's claim (synced and accepted); read by other sessions' claims without this one's lock. */
  private volatile boolean live;
  private boolean refusalLogged;

  private OvsdbClient client;
  private State state;
  private Instant since = Instant.now();
  private String lastError = "";
  private String systemId = "";
  private String sourceKey;
  private long reconnects;
  private Duration backoff;
  private String lastTxnId;
  private boolean loadedOnce;
  private MonitorMethod method = MonitorMethod.COND_SINCE;
  private ScheduledFuture<?> retry;
  /** Until then (nanoTime), bindings whose interface is not realized again after a resync are kept. */
  private long resyncGraceUntil;
  private boolean graceActive;
  private Map<ObjectRef, PortBinding> published = Map.of();
  private boolean closed;

  /** An active session (dials {@code endpoint} and keeps dialling). */
  NodeSession(OvsdbEndpoint endpoint, Transport transport, OvsdbSource.Options options,
      BindingAggregator aggregator, SystemIds systemIds) {
    this(endpoint, endpoint.toString(), transport, options, aggregator, null, systemIds);
  }

  /** A passive session over a connection a server opened to our listener. */
  NodeSession(OvsdbEndpoint listener, String name, Transport transport, OvsdbSource.Options options,
      BindingAggregator aggregator, Runnable onPassiveEnd, SystemIds systemIds) {
    this.endpoint = listener;
    this.systemIds = systemIds;
    this.name = name;
    this.transport = transport;
    this.options = options;
    this.aggregator = aggregator;
    this.cache = new OvsdbCache(name);
    this.onPassiveEnd = onPassiveEnd;
    this.sourceKey = name;
    this.backoff = options.backoffMin();
    this.state = State.CONNECTING;
  }

  String name() {
    return name;
  }

  synchronized String sourceKey() {
    return sourceKey;
  }

  synchronized String systemId() {
    return systemId;
  }

  OvsdbCache cache() {
    return cache;
  }

  synchronized OvsdbClient client() {
    return client;
  }

  synchronized OvsdbStatus status() {
    return new OvsdbStatus(name, state, since, systemId, lastError, cache.interfaceCount(),
        aggregator.count(sourceKey), reconnects);
  }

  /** Dials the endpoint (active sessions). */
  synchronized void start() {
    if (closed) {
      return;
    }
    setState(State.CONNECTING);
    CompletableFuture<OvsdbClient> f = switch (endpoint.kind()) {
      case UNIX -> transport.connectUnix(endpoint.path(), options.connectTimeout(), this);
      case TCP -> transport.connectTcp(endpoint.host(), endpoint.port(), options.connectTimeout(), this);
      case SSL -> transport.connectSsl(endpoint.host(), endpoint.port(), options.connectTimeout(), this);
      case PTCP, PSSL -> throw new IllegalStateException("passive endpoints are not dialled");
    };
    f.whenComplete((c, e) -> {
      if (e != null) {
        onConnectFailed(unwrap(e));
      } else {
        attach(c);
      }
    });
  }

  /** Takes over a connection (accepted from a passive listener, or just dialled). */
  synchronized void attach(OvsdbClient c) {
    if (closed) {
      c.close();
      return;
    }
    client = c;
    c.listener(this);
    c.channel().closeFuture().addListener(x -> onClosed(c));
    LOG.info("{}: connected, loading {} tables", name, DB);
    setState(State.SYNCING);
    sync(c);
  }

  private void sync(OvsdbClient c) {
    c.getSchema(DB)
        .thenCompose(schema -> {
          synchronized (this) {
            cache.schema(DbSchema.parse(schema));
            return monitor(c, cache.monitorRequests());
          }
        })
        .whenComplete((ok, e) -> {
          if (e != null) {
            Throwable cause = unwrap(e);
            synchronized (this) {
              lastError = "sync failed: " + cause.getMessage();
            }
            LOG.warn("{}: could not load the tables ({}); dropping the connection", name, cause.getMessage());
            c.close();
          } else {
            onSynced(c);
          }
        });
  }

  private CompletableFuture<Void> monitor(OvsdbClient c, ObjectNode requests) {
    MonitorMethod m;
    synchronized (this) {
      m = method;
    }
    return switch (m) {
      case COND_SINCE -> c.monitorCondSince(DB, MONITOR_ID, requests, lastTxnId == null ? ZERO_TXN : lastTxnId)
          .thenAccept(r -> {
            if (!r.isArray() || r.size() != 3) {
              throw new RpcException(RpcException.Kind.PROTOCOL, "monitor_cond_since reply is not [found, id, updates]");
            }
            boolean found = r.get(0).asBoolean(false);
            synchronized (this) {
              if (found && loadedOnce) {
                LOG.info("{}: resumed monitor after transaction {}, applying only later changes", name, lastTxnId);
              } else {
                cache.clear();
              }
              lastTxnId = r.get(1).asText();
              cache.apply(r.get(2), UpdateKind.UPDATE2);
            }
          })
          .exceptionallyCompose(e -> fallBack(c, requests, e, MonitorMethod.COND));
      case COND -> c.monitorCond(DB, MONITOR_ID, requests)
          .thenAccept(r -> load(r, UpdateKind.UPDATE2))
          .exceptionallyCompose(e -> fallBack(c, requests, e, MonitorMethod.PLAIN));
      case PLAIN -> c.monitor(DB, MONITOR_ID, requests).thenAccept(r -> load(r, UpdateKind.UPDATE));
    };
  }

  private CompletableFuture<Void> fallBack(OvsdbClient c, ObjectNode requests, Throwable e, MonitorMethod next) {
    Throwable cause = unwrap(e);
    if (cause instanceof RpcException re && re.isServerError("unknown method")) {
      synchronized (this) {
        LOG.info("{}: server lacks {}, using {}", name, method, next);
        method = next;
      }
      return monitor(c, requests);
    }
    return CompletableFuture.failedFuture(cause);
  }

  private synchronized void load(JsonNode updates, UpdateKind kind) {
    cache.clear();
    cache.apply(updates, kind);
  }

  private void onSynced(OvsdbClient c) {
    synchronized (this) {
      if (client != c || closed) {
        return;
      }
      if (loadedOnce) {
        graceActive = true;
        resyncGraceUntil = System.nanoTime() + options.resyncGrace().toNanos();
        transport.group().schedule(this::publish, options.resyncGrace().toNanos(), TimeUnit.NANOSECONDS);
      }
      String id = cache.switchesView().values().stream().map(x -> x.systemId()).filter(x -> !x.isEmpty())
          .findFirst().orElse("");
      String refusal = systemIds.claim(id, certificateName(c), this);
      if (refusal != null) {
        lastError = "refused: " + refusal;
        if (!refusalLogged) {
          refusalLogged = true;
          LOG.warn("{}: {}: refused{}", name, refusal, refusal.contains(" is already connected from ")
              ? " (one node, one server; the first keeps it until its connection is gone)" : "");
        }
        c.close();
        return;
      }
      live = true;
      refusalLogged = false;
      loadedOnce = true;
      backoff = options.backoffMin();
      lastError = "";
      learnSystemId();
      setState(State.SYNCED);
      LOG.info("{}: synced ({} bridges, {} interfaces, system-id {})", name, cache.bridgesView().size(),
          cache.interfaceCount(), systemId.isEmpty() ? "(none)" : systemId);
    }
    publish();
  }

  /** The name on the certificate the server presented over TLS, or null on a plain (tcp, unix) connection. */
  private static String certificateName(OvsdbClient c) {
    io.netty.handler.ssl.SslHandler ssl = c.channel().pipeline().get(io.netty.handler.ssl.SslHandler.class);
    return ssl == null ? null : CertificateName.ofPeer(ssl.engine().getSession());
  }

  /** Passive peers are known by system-id (stable across reconnects), else by their address. */
  private void learnSystemId() {
    String id = cache.switchesView().values().stream().map(s -> s.systemId()).filter(s -> !s.isEmpty())
        .findFirst().orElse("");
    systemId = id;
    if (endpoint.isPassive() && !id.isEmpty()) {
      sourceKey = "system-id:" + id;
    }
  }

  @Override
  public void onUpdate(JsonNode monitorId, UpdateKind kind, String txnId, JsonNode updates) {
    if (!MONITOR_ID.equals(monitorId)) {
      LOG.debug("{}: update for unknown monitor {} ignored", name, monitorId);
      return;
    }
    boolean changed;
    synchronized (this) {
      if (txnId != null) {
        lastTxnId = txnId;
      }
      changed = cache.apply(updates, kind);
      if (state != State.SYNCED) {
        return;
      }
    }
    if (changed) {
      publish();
    }
  }

  /** The non-pod ports of each bridge last handed to the aggregator. */
  private Map<Long, SwitchPorts> publishedPorts = Map.of();

  /**
   * Computes this server's bindings and hands them to the aggregator. Within {@code resyncGrace} of a resync, a pod
   * whose interface is still there but not realized again (ofport or datapath id not yet rewritten by ovs-vswitchd
   * after an ovsdb-server restart) keeps its binding, so a restart does not unbind and rebind every pod.
   */
  private synchronized void publish() {
    if (closed || state != State.SYNCED) {
      return;
    }
    Map<ObjectRef, PortBinding> now = Bindings.compute(cache.bridgesView(), cache.portsView(),
        cache.interfacesView());
    Map<Long, SwitchPorts> open = Bindings.openPorts(cache.bridgesView(), cache.portsView(), cache.interfacesView());
    if (graceActive && resyncGraceUntil - System.nanoTime() > 0) {
      // ofports not yet rewritten by ovs-vswitchd: do not close a port that was open before the resync
      Map<Long, SwitchPorts> merged = new HashMap<>(open);
      publishedPorts.forEach((dpid, p) -> merged.merge(dpid, p, (a, b) -> {
        Set<Long> union = new java.util.HashSet<>(a.openPorts());
        union.addAll(b.openPorts());
        return new SwitchPorts(dpid, union);
      }));
      if (!merged.equals(open)) {
        // look again when the grace ends, so ports that really went away close then
        transport.group().schedule(this::publish, resyncGraceUntil - System.nanoTime() + 1_000_000, TimeUnit.NANOSECONDS);
      }
      open = merged;
    }
    publishedPorts = Map.copyOf(open);
    aggregator.updatePorts(sourceKey, open);
    if (graceActive) {
      long left = resyncGraceUntil - System.nanoTime();
      if (left > 0) {
        Set<ObjectRef> pending = Bindings.unrealized(cache.bridgesView(), cache.portsView(), cache.interfacesView());
        Map<ObjectRef, PortBinding> kept = new HashMap<>(now);
        published.forEach((pod, b) -> {
          if (!now.containsKey(pod) && pending.contains(pod)) {
            kept.put(pod, b);
          }
        });
        if (kept.size() > now.size()) {
          LOG.debug("{}: keeping {} bindings until ovs-vswitchd re-realizes them", name, kept.size() - now.size());
          // Look again when the grace ends (a timer may fire a hair early).
          transport.group().schedule(this::publish, left + 1_000_000, TimeUnit.NANOSECONDS);
        }
        published = Map.copyOf(kept);
        aggregator.update(sourceKey, published);
        return;
      }
      graceActive = false;
    }
    published = now;
    aggregator.update(sourceKey, now);
  }

  private synchronized void onConnectFailed(Throwable e) {
    lastError = "connect failed: " + e.getMessage();
    if (reconnects == 0 && !loadedOnce) {
      LOG.warn("{}: cannot connect ({}); retrying with backoff", name, e.getMessage());
    } else {
      LOG.debug("{}: cannot connect ({})", name, e.getMessage());
    }
    scheduleRetry();
  }

  private void onClosed(OvsdbClient c) {
    synchronized (this) {
      if (client != c) {
        return;
      }
      client = null;
      release();
      if (closed) {
        setState(State.CLOSED);
        return;
      }
      if (lastError.isEmpty()) {
        lastError = "connection lost";
      }
      // a refused server was logged once by the refusal; its closing is not news each time it tries again
      boolean refused = refusalLogged && lastError.startsWith("refused: ");
      if (endpoint.isPassive()) {
        if (!refused) {
          LOG.warn("{}: server disconnected; keeping its {} bindings until it reconnects", name,
              aggregator.count(sourceKey));
        }
        setState(State.CLOSED);
      } else {
        if (refused) {
          LOG.debug("{}: closed after refusal; trying again with backoff", name);
        } else {
          LOG.warn("{}: connection lost; keeping {} bindings, reconnecting", name, aggregator.count(sourceKey));
        }
        scheduleRetry();
      }
    }
    if (endpoint.isPassive() && onPassiveEnd != null) {
      onPassiveEnd.run();
    }
  }

  private void scheduleRetry() {
    if (closed) {
      return;
    }
    setState(State.CONNECTING);
    long ms = backoff.toMillis();
    long jittered = ms / 2 + ThreadLocalRandom.current().nextLong(ms / 2 + 1);
    backoff = backoff.multipliedBy(2).compareTo(options.backoffMax()) > 0 ? options.backoffMax()
        : backoff.multipliedBy(2);
    reconnects++;
    retry = transport.group().next().schedule(this::start, jittered, TimeUnit.MILLISECONDS);
  }

  /** Gives up its system-id's claim (its connection is gone). */
  private void release() {
    if (live) {
      live = false;
      systemIds.release(systemId, this);
    }
  }

  boolean live() {
    return live;
  }

  /**
   * Who speaks for which node: one live session per system-id, and only listed ones when a list is given (with the
   * certificate name listed, if any). {@link #claim} answers why a session is refused (another live session holds the
   * id; not listed; not the listed certificate name), or null when the claim is granted. An empty id is granted unless
   * a list is given. {@code certificateName} is null on a plain connection.
   */
  interface SystemIds {
    String claim(String systemId, String certificateName, NodeSession session);

    void release(String systemId, NodeSession session);
  }

  private void setState(State s) {
    if (state != s) {
      state = s;
      since = Instant.now();
    }
  }

  /** Stops for good: cancels any retry and closes the connection. Bindings stay with the aggregator's owner. */
  void close() {
    OvsdbClient c;
    synchronized (this) {
      closed = true;
      release();
      if (retry != null) {
        retry.cancel(false);
      }
      c = client;
      setState(State.CLOSED);
    }
    if (c != null) {
      c.close().join();
    }
  }

  static Throwable unwrap(Throwable e) {
    while (e instanceof CompletionException && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }
}
