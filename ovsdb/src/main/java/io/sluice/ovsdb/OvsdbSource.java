package io.sluice.ovsdb;

import io.netty.channel.Channel;
import io.sluice.model.ModelEvent;
import io.sluice.model.ObjectRef;
import io.sluice.model.PortBinding;
import io.sluice.model.source.EventSink;
import io.sluice.model.source.Source;
import io.sluice.model.source.SourceError;
import io.sluice.ovsdb.actuate.Actuator;
import io.sluice.ovsdb.cache.CacheSnapshot;
import io.sluice.ovsdb.ports.BindingAggregator;
import io.sluice.ovsdb.rpc.OvsdbClient;
import io.sluice.ovsdb.rpc.RpcPipeline;
import io.sluice.ovsdb.rpc.RpcStats;
import io.sluice.ovsdb.rpc.Transport;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sluice's OVSDB source, a {@link Source} like the manifest directory: follows every configured ovsdb-server (one
 * per node) and reports which pod sits on which switch port as {@link ModelEvent.PortBound} /
 * {@link ModelEvent.PortUnbound} batches to the sink (and each bridge's non-pod ports as
 * {@link ModelEvent.SwitchPortsUpserted} / {@link ModelEvent.SwitchPortsDeleted}), within milliseconds of the
 * server's update. Also hands out an {@link Actuator} per connected server.
 *
 * <pre>
 * OvsdbSource ovsdb = new OvsdbSource(
 *     List.of(OvsdbEndpoint.parse("unix:/var/run/openvswitch/db.sock"), OvsdbEndpoint.parse("ptcp:6640:0.0.0.0")));
 * ovsdb.start(model::apply); // returns at once; connects in the background, retrying with backoff
 * ovsdb.status();            // per connection: CONNECTING / SYNCING / SYNCED / LISTENING / ..., last error
 * ovsdb.stop();
 * </pre>
 *
 * Unlike the manifest directory, {@link #start} returns before anything is delivered, and each server's bindings
 * arrive as their own batch once it has synced; a change that binds or unbinds nothing sends no batch. The sink is
 * called on one dedicated thread, in order, never concurrently. Connection problems are in {@link #status()}, not
 * in {@link #errors()}: OVSDB rows are never refused the way an invalid manifest is.
 */
public final class OvsdbSource implements Source {
  private static final Logger LOG = LoggerFactory.getLogger(OvsdbSource.class);

  /**
   * Tuning. {@code requestTimeout}: how long any JSON-RPC call may wait for its reply. {@code probeInterval}: after
   * this much silence, send an echo (zero: never). {@code backoffMin}/{@code backoffMax}: reconnect delays, doubling.
   * {@code maxFrameBytes}: longest message accepted (longer ones are dropped). {@code passiveGrace}: how long the
   * bindings of a server that connected to us are kept after it disconnects, waiting for it to come back.
   * {@code resyncGrace}: after a reconnect, how long a pod whose interface is still there but has no ofport yet
   * (ovsdb-server restarted; ovs-vswitchd has not rewritten the ephemeral columns) keeps its binding.
   */
  public record Options(Duration requestTimeout, Duration connectTimeout, Duration probeInterval, Duration backoffMin,
      Duration backoffMax, int maxFrameBytes, Duration passiveGrace, Duration resyncGrace,
      OvsdbNodeAllowList allowedNodes, int maxPeers) {
    public Options {
      Objects.requireNonNull(requestTimeout, "requestTimeout");
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(probeInterval, "probeInterval");
      if (backoffMin.isZero() || backoffMin.isNegative() || backoffMax.compareTo(backoffMin) < 0) {
        throw new IllegalArgumentException("need 0 < backoffMin <= backoffMax, got " + backoffMin + ", " + backoffMax);
      }
      Objects.requireNonNull(passiveGrace, "passiveGrace");
      Objects.requireNonNull(resyncGrace, "resyncGrace");
      if (maxPeers < 1) {
        throw new IllegalArgumentException("maxPeers must be at least 1, got " + maxPeers);
      }
    }

    public static Options defaults() {
      return new Options(Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(5),
          Duration.ofMillis(200), Duration.ofSeconds(8), DEFAULT_MAX_FRAME_BYTES, Duration.ofSeconds(60),
          Duration.ofSeconds(5), null, DEFAULT_MAX_PEERS);
    }

    /**
     * The longest JSON-RPC message accepted by default: 32 MiB, several times a monitor reply for 10,000 pod ports
     * (about 500 bytes each), and what one peer can make Sluice buffer.
     */
    public static final int DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024;

    /**
     * Servers connected to the listeners at once, by default: more are closed as they arrive (at most one log line
     * per 10 s), so no flood of connections grows Sluice's memory; configured servers (active endpoints) do not count.
     */
    public static final int DEFAULT_MAX_PEERS = 4096;

    public Options withMaxPeers(int peers) {
      return new Options(requestTimeout, connectTimeout, probeInterval, backoffMin, backoffMax, maxFrameBytes,
          passiveGrace, resyncGrace, allowedNodes, peers);
    }

    /**
     * Only servers whose {@code external_ids:system-id} is in {@code ids} are served (others, and servers without
     * one, are refused and logged), whatever certificate they present; null serves any.
     */
    public Options withAllowedSystemIds(java.util.Set<String> ids) {
      return withAllowedNodes(ids == null ? null : OvsdbNodeAllowList.of("--ovsdb-nodes", ids));
    }

    /**
     * Only servers whose {@code external_ids:system-id} is listed are served, and one listed with a certificate name
     * only over TLS presenting a certificate of that name (others, and servers without a system-id, are refused and
     * logged); null serves any.
     */
    public Options withAllowedNodes(OvsdbNodeAllowList nodes) {
      return new Options(requestTimeout, connectTimeout, probeInterval, backoffMin, backoffMax, maxFrameBytes,
          passiveGrace, resyncGrace, nodes, maxPeers);
    }

    public Options withMaxFrameBytes(int bytes) {
      if (bytes < 65_536) {
        throw new IllegalArgumentException("OVSDB message limit must be at least 65536 bytes, got " + bytes);
      }
      return new Options(requestTimeout, connectTimeout, probeInterval, backoffMin, backoffMax, bytes, passiveGrace,
          resyncGrace, allowedNodes, maxPeers);
    }

    public Options withBackoff(Duration min, Duration max) {
      return new Options(requestTimeout, connectTimeout, probeInterval, min, max, maxFrameBytes, passiveGrace, resyncGrace,
          allowedNodes, maxPeers);
    }

    public Options withPassiveGrace(Duration grace) {
      return new Options(requestTimeout, connectTimeout, probeInterval, backoffMin, backoffMax, maxFrameBytes, grace,
          resyncGrace, allowedNodes, maxPeers);
    }

    public Options withRequestTimeout(Duration t) {
      return new Options(t, connectTimeout, probeInterval, backoffMin, backoffMax, maxFrameBytes, passiveGrace,
          resyncGrace, allowedNodes, maxPeers);
    }

    public Options withResyncGrace(Duration grace) {
      return new Options(requestTimeout, connectTimeout, probeInterval, backoffMin, backoffMax, maxFrameBytes,
          passiveGrace, grace, allowedNodes, maxPeers);
    }
  }

  private final List<OvsdbEndpoint> endpoints;
  private final Options options;
  private final OvsdbTls tls;
  private final RpcStats stats = new RpcStats();
  /** Made by {@link #start}, which is given the sink. */
  private volatile BindingAggregator aggregator;
  private final Map<OvsdbEndpoint, NodeSession> active = new LinkedHashMap<>();
  private final List<NodeSession> passive = new CopyOnWriteArrayList<>();
  private final Map<OvsdbEndpoint, Listener> listeners = new LinkedHashMap<>();
  /** System-id → the live session that speaks for that node. */
  private final java.util.concurrent.ConcurrentHashMap<String, NodeSession> claims =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final NodeSession.SystemIds systemIds = new NodeSession.SystemIds() {
    @Override
    public String claim(String id, String certificateName, NodeSession s) {
      String refusal = options.allowedNodes() == null ? null : options.allowedNodes().refusal(id, certificateName);
      if (refusal != null) {
        return refusal;
      }
      if (id.isEmpty()) {
        return null; // nothing to claim: such a server is known by its address
      }
      NodeSession[] holder = new NodeSession[1];
      claims.compute(id, (k, cur) -> {
        if (cur == null || cur == s || !cur.live()) {
          return s;
        }
        holder[0] = cur;
        return cur;
      });
      return holder[0] == null ? null : "system-id " + id + " is already connected from " + holder[0].name();
    }

    @Override
    public void release(String id, NodeSession s) {
      claims.remove(id, s);
    }
  };
  private Transport transport;
  private boolean started;
  private boolean closed;

  private static final class Listener {
    volatile Channel channel;
    volatile OvsdbStatus.State state = OvsdbStatus.State.CONNECTING;
    volatile String error = "";
    volatile Instant since = Instant.now();
  }

  public OvsdbSource(List<OvsdbEndpoint> endpoints) {
    this(endpoints, Options.defaults());
  }

  public OvsdbSource(List<OvsdbEndpoint> endpoints, Options options) {
    this(endpoints, options, null);
  }

  /** With TLS for {@code ssl:} and {@code pssl:} endpoints; {@code tls} may be null when there are none. */
  public OvsdbSource(List<OvsdbEndpoint> endpoints, Options options, OvsdbTls tls) {
    this.endpoints = List.copyOf(endpoints);
    if (this.endpoints.stream().distinct().count() != this.endpoints.size()) {
      throw new IllegalArgumentException("duplicate OVSDB endpoint in " + endpoints);
    }
    this.options = Objects.requireNonNull(options, "options");
    this.tls = tls;
    for (OvsdbEndpoint e : this.endpoints) {
      if (e.isTls() && tls == null) {
        throw new IllegalArgumentException(e + " needs a private key, a certificate and a CA certificate");
      }
    }
  }

  /**
   * Starts connecting and listening, and returns at once; {@code sink} gets every server's bindings once it has
   * synced, then each change. Servers that are not reachable yet are retried with backoff; a listen port that cannot
   * be bound is reported by {@link #status()} as FAILED.
   */
  @Override
  public synchronized void start(EventSink sink) {
    Objects.requireNonNull(sink, "sink");
    if (started) {
      throw new IllegalStateException("OvsdbSource already started");
    }
    if (closed) {
      throw new IllegalStateException("OvsdbSource already stopped");
    }
    started = true;
    aggregator = new BindingAggregator(sink);
    transport = new Transport(new RpcPipeline.Settings(options.maxFrameBytes(), options.requestTimeout(),
        options.probeInterval(), stats), 1,
        tls == null ? null : new Transport.Tls(tls.client(), tls.handshakeTimeout()),
        tls == null ? null : new Transport.Tls(tls.server(), tls.handshakeTimeout()));
    for (OvsdbEndpoint e : endpoints) {
      if (e.isPassive()) {
        listen(e);
      } else {
        NodeSession s = new NodeSession(e, transport, options, aggregator, systemIds);
        active.put(e, s);
        LOG.info("OVSDB {}: connecting", e);
        s.start();
      }
    }
  }

  private void listen(OvsdbEndpoint e) {
    Listener l = new Listener();
    listeners.put(e, l);
    (e.isTls() ? transport.listenSsl(e.host(), e.port(), c -> accept(e, c))
        : transport.listenTcp(e.host(), e.port(), c -> accept(e, c))).whenComplete((ch, err) -> {
      l.since = Instant.now();
      if (err != null) {
        l.state = OvsdbStatus.State.FAILED;
        l.error = "cannot listen on " + e.host() + ":" + e.port() + ": " + err.getMessage();
        LOG.error("OVSDB {}: {}", e, l.error);
      } else {
        l.channel = ch;
        l.state = OvsdbStatus.State.LISTENING;
        LOG.info("OVSDB {}: listening on {} for ovsdb-servers (ovs-vsctl set-manager {}:THIS_HOST:{})", e,
            ch.localAddress(), e.isTls() ? "ssl" : "tcp", ((InetSocketAddress) ch.localAddress()).getPort());
      }
    });
  }

  private final java.util.concurrent.atomic.AtomicLong refusedPeers = new java.util.concurrent.atomic.AtomicLong();
  /** Connections accepted by the listeners and not yet closed. */
  private final java.util.concurrent.atomic.AtomicInteger connectedPeers = new java.util.concurrent.atomic.AtomicInteger();
  private volatile long refusalLoggedNanos;

  /** Connections the listeners closed because {@link Options#maxPeers()} were already connected, so far. */
  public long refusedPeers() {
    return refusedPeers.get();
  }

  private void accept(OvsdbEndpoint e, OvsdbClient c) {
    int live = connectedPeers.get();
    if (live >= options.maxPeers()) {
      long n = refusedPeers.incrementAndGet();
      long now = System.nanoTime();
      if (now - refusalLoggedNanos > 10_000_000_000L) {
        refusalLoggedNanos = now;
        LOG.warn("OVSDB {}: {} servers connected, the most allowed (--ovsdb-max-peers); closing {} ({} refused so far)",
            e, live, c.name(), n);
      }
      c.close();
      return;
    }
    NodeSession[] self = new NodeSession[1];
    connectedPeers.incrementAndGet();
    NodeSession s = new NodeSession(e, c.name(), transport, options, aggregator, () -> {
      connectedPeers.decrementAndGet();
      passiveEnded(self[0]);
    }, systemIds);
    self[0] = s;
    synchronized (this) {
      if (closed) {
        c.close();
        return;
      }
      passive.add(s);
    }
    c.channel().eventLoop().execute(() -> s.attach(c));
  }

  /** A passive peer went away: keep its bindings for the grace period, then drop them unless it came back. */
  private void passiveEnded(NodeSession s) {
    String key = s.sourceKey();
    transport.group().schedule(() -> {
      passive.remove(s);
      boolean back = passive.stream().anyMatch(o -> o.sourceKey().equals(key));
      if (!back && !isClosed()) {
        LOG.warn("OVSDB {}: did not come back within {}; unbinding its pods", key, options.passiveGrace());
        aggregator.remove(key);
      }
    }, options.passiveGrace().toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized boolean isClosed() {
    return closed;
  }

  /** One entry per configured active endpoint, per listener, and per server connected to a listener. */
  public synchronized List<OvsdbStatus> status() {
    List<OvsdbStatus> out = new ArrayList<>();
    for (OvsdbEndpoint e : endpoints) {
      if (e.isPassive()) {
        Listener l = listeners.get(e);
        if (l == null) {
          out.add(new OvsdbStatus(e.toString(), OvsdbStatus.State.CLOSED, Instant.now(), "", "not started", 0, 0, 0));
        } else {
          out.add(new OvsdbStatus(e.toString(), closed ? OvsdbStatus.State.CLOSED : l.state, l.since, "", l.error,
              0, 0, 0));
        }
      } else {
        NodeSession s = active.get(e);
        out.add(s == null
            ? new OvsdbStatus(e.toString(), OvsdbStatus.State.CLOSED, Instant.now(), "", "not started", 0, 0, 0)
            : s.status());
      }
    }
    passive.forEach(s -> out.add(s.status()));
    return out;
  }

  /**
   * True when every configured active endpoint is SYNCED and every listener is LISTENING. Connections accepted by a
   * listener do not count: anyone can open one and never speak (it would hold readiness until the request timeout),
   * and one that has synced cannot fall back (it is SYNCED until it closes). A server turns SYNCED just before its
   * first bindings are queued for the sink, so they may reach the sink a moment after this turns true.
   */
  @Override
  public synchronized boolean ready() {
    for (OvsdbEndpoint e : endpoints) {
      if (e.isPassive()) {
        Listener l = listeners.get(e);
        if (closed || l == null || l.state != OvsdbStatus.State.LISTENING) {
          return false;
        }
      } else {
        NodeSession s = active.get(e);
        if (s == null || s.status().state() != OvsdbStatus.State.SYNCED) {
          return false;
        }
      }
    }
    return true;
  }

  /** Always empty: OVSDB rows are never refused. Connection problems are reported by {@link #status()}. */
  @Override
  public List<SourceError> errors() {
    return List.of();
  }

  /** Every pod bound right now, across all servers (none before {@link #start}). */
  public Map<ObjectRef, PortBinding> bindings() {
    BindingAggregator a = aggregator;
    return a == null ? Map.of() : a.current();
  }

  /** The actual port a ptcp endpoint listens on (useful with port 0). */
  public synchronized Optional<Integer> listenPort(OvsdbEndpoint e) {
    Listener l = listeners.get(e);
    return l == null || l.channel == null ? Optional.empty()
        : Optional.of(((InetSocketAddress) l.channel.localAddress()).getPort());
  }

  /** The session for an active endpoint (its text) or a passive peer (its name or system-id). */
  private synchronized Optional<NodeSession> session(String node) {
    for (Map.Entry<OvsdbEndpoint, NodeSession> e : active.entrySet()) {
      if (e.getKey().toString().equals(node) || e.getValue().systemId().equals(node)) {
        return Optional.of(e.getValue());
      }
    }
    return passive.stream().filter(s -> s.name().equals(node) || s.systemId().equals(node)
        || s.sourceKey().equals(node)).reduce((a, b) -> b);
  }

  /** The cache of one server, by endpoint text (e.g. {@code unix:/var/run/openvswitch/db.sock}) or system-id. */
  public Optional<CacheSnapshot> cache(String node) {
    return session(node).map(s -> s.cache().snapshot());
  }

  /**
   * An actuator for one server, by endpoint text or system-id. It always uses that server's current connection,
   * so it can be kept across reconnects; calls fail while the server is not connected.
   */
  public Optional<Actuator> actuator(String node) {
    return session(node).map(s -> new Actuator(s.name(), s::client));
  }

  /** Counters of bad input from servers (malformed, oversized, unknown ids and methods, timeouts). */
  public RpcStats rpcStats() {
    return stats;
  }

  /**
   * Closes every connection and listener, and returns once batches already queued have reached the sink (no sink
   * call starts after). Bindings already reported stay reported (no unbinding on shutdown). Idempotent; stopping a
   * source that never started only keeps it from starting.
   */
  @Override
  public void stop() {
    List<NodeSession> sessions;
    List<Listener> ls;
    BindingAggregator a;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      a = aggregator;
      sessions = new ArrayList<>(active.values());
      sessions.addAll(passive);
      ls = new ArrayList<>(listeners.values());
    }
    for (Listener l : ls) {
      if (l.channel != null) {
        l.channel.close().syncUninterruptibly();
      }
    }
    for (NodeSession s : sessions) {
      try {
        s.close();
      } catch (CompletionException e) {
        LOG.debug("closing {}: {}", s.name(), e.getMessage());
      }
    }
    if (transport != null) {
      transport.close();
    }
    if (a != null) {
      a.close();
    }
    LOG.info("OVSDB source closed");
  }
}
