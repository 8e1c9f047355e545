package io.sluice.controller.sync;

import com.google.common.util.concurrent.MoreExecutors;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.session.SwitchSession;
import io.sluice.renderer.flow.DesiredTables;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongFunction;
import org.projectfloodlight.openflow.protocol.OFControllerRole;
import org.projectfloodlight.openflow.protocol.OFRoleReply;
import org.projectfloodlight.openflow.types.U64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * All switches Sluice has seen, connected or not. Sessions report here; each switch gets a {@link SwitchSync} that
 * keeps its tables equal to what the renderer says, at the model's current generation.
 */
public final class SwitchManager implements SessionListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SwitchManager.class);

  /** The role to request from each switch (null or EQUAL: none), with its generation id. */
  public record Role(OFControllerRole role, long generationId) { }

  private final Map<Long, SwitchSync> switches = new ConcurrentHashMap<>();
  private final ExecutorService pool;
  private final FlowCodec codec;
  private final BundleWriter writer;
  private final LongFunction<DesiredTables> render;
  private final SyncMetrics metrics;
  private final Role role;
  private final AtomicInteger connected = new AtomicInteger();
  private volatile long generation;

  /** The session that speaks for each datapath id (the first connected, while it is up). */
  private final Map<Long, SwitchSession> owners = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong refusedDuplicates = new java.util.concurrent.atomic.AtomicLong();
  private final io.sluice.controller.logging.LogLimiter logLimiter =
      new io.sluice.controller.logging.LogLimiter(Duration.ofSeconds(10));

  public SwitchManager(FlowCodec codec, LongFunction<DesiredTables> render, SyncMetrics metrics, Role role) {
    this.codec = codec;
    this.render = render;
    this.metrics = metrics;
    this.role = role;
    this.writer = new BundleWriter(Duration.ofMinutes(2));
    AtomicInteger n = new AtomicInteger();
    this.pool = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "sluice-sync-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public void active(SwitchSession session) {
    long dpid = session.dpid().getLong();
    SwitchSession owner = owners.compute(dpid, (k, cur) -> cur == null || !cur.isActive() ? session : cur);
    if (owner != session) {
      // Another peer claiming a datapath id whose switch is connected and answering echoes: refused, or it would take
      // the switch over (the real one would stop receiving changes while shown as connected). A switch that really
      // reconnects gets in once its old connection is closed or stops answering.
      refusedDuplicates.incrementAndGet();
      long suppressed = logLimiter.admit("duplicate " + session.name());
      if (suppressed >= 0) {
        LOG.warn("switch {}: refused a second connection from {} claiming its datapath id; the switch is connected "
                + "from {} and answering{}", session.name(), session.remoteAddress(), owner.remoteAddress(),
            logLimiter.suffix(suppressed));
      }
      session.close("datapath id " + session.name() + " already connected from " + owner.remoteAddress());
      return;
    }
    SwitchSync sync = switches.computeIfAbsent(dpid, d -> new SwitchSync(d, session.dpid().toString(),
        MoreExecutors.newSequentialExecutor(pool), pool, codec, writer, render, metrics, () -> generation));
    metrics.switchConnected(session.name(), true, connected.incrementAndGet());
    boolean mayWrite = role == null || role.role() != OFControllerRole.ROLE_SLAVE;
    if (role != null && role.role() != OFControllerRole.ROLE_EQUAL) {
      session.request(session.factory().buildRoleRequest().setXid(session.nextXid()).setRole(role.role())
              .setGenerationId(U64.of(role.generationId())).build())
          .whenComplete((reply, err) -> {
            if (err != null) {
              LOG.warn("switch {} refused role {} (generation id {}): {}; not writing to it", session.name(),
                  role.role(), role.generationId(), err.getMessage());
              session.close("role refused");
            } else {
              String granted = reply instanceof OFRoleReply rr ? roleName(rr.getRole()) : roleName(role.role());
              LOG.info("switch {}: role {} granted (generation id {})", session.name(), granted, role.generationId());
              sync.attach(session, mayWrite, granted);
            }
          });
    } else {
      sync.attach(session, mayWrite, "EQUAL");
    }
  }

  private static String roleName(OFControllerRole r) {
    return switch (r) {
      case ROLE_MASTER -> "MASTER";
      case ROLE_SLAVE -> "SLAVE";
      case ROLE_EQUAL -> "EQUAL";
      default -> r.toString();
    };
  }

  @Override
  public void portChanged(SwitchSession session, SwitchPort port, boolean deleted) {
    LOG.info("switch {}: port {} ({}) {}", session.name(), port.portNo(), port.name(), deleted ? "deleted" : "up=" + port.up());
  }

  @Override
  public void closed(SwitchSession session, String reason) {
    if (session.dpid() == null || !owners.remove(session.dpid().getLong(), session)) {
      return; // never this datapath's switch (refused as a duplicate)
    }
    SwitchSync sync = switches.get(session.dpid().getLong());
    if (sync != null) {
      sync.detach(session);
    }
    metrics.switchConnected(session.name(), false, connected.decrementAndGet());
    LOG.warn("switch {} disconnected: {}; its flows stay in place (fail-mode secure) until it reconnects", session.name(), reason);
  }

  /** The model moved to a new generation: every connected switch renders and pushes its difference. */
  public void modelChanged(long generation) {
    this.generation = generation;
    metrics.generation(generation);
    for (SwitchSync s : switches.values()) {
      s.modelChanged();
    }
  }

  public List<SwitchStatus> statuses() {
    return switches.values().stream().map(SwitchSync::status)
        .sorted(Comparator.comparing(SwitchStatus::datapathId)).toList();
  }

  /** The last push result of a switch, for tests and benchmarks. */
  public PushResult lastPush(long dpid) {
    SwitchSync s = switches.get(dpid);
    return s == null ? null : s.lastPush();
  }

  /**
   * Conntrack flushes sent to a switch for UDP/SCTP backends gone from its Services ({@code sent}), how many of them it
   * refused or did not confirm ({@code failed}) and the last reason; null for an unknown switch.
   */
  public FlushReport backendFlushes(long dpid) {
    SwitchSync s = switches.get(dpid);
    SwitchSync.BackendFlushes f = s == null ? null : s.backendFlushes();
    return f == null ? null : new FlushReport(f.sent(), f.failed(), f.lastFailure());
  }

  /** See {@link #backendFlushes}. */
  public record FlushReport(long sent, long failed, String lastFailure) { }

  /** How many pushes to the switch went out diffed flow by flow from the last applied one (not whole tables). */
  public long deltaPushes(long dpid) {
    SwitchSync s = switches.get(dpid);
    return s == null ? 0 : s.deltaPushes();
  }

  /** The last reconcile of a switch: messages it took and its duration (read, diff, push, barrier); or null. */
  public ReconcileReport lastReconcile(long dpid) {
    SwitchSync s = switches.get(dpid);
    SwitchSync.Reconcile r = s == null ? null : s.lastReconcile();
    return r == null ? null : new ReconcileReport(r.generation(), r.flowsRead(), r.foreign(), r.sent().flowMods(),
        r.groupsRead(), r.foreignGroups(), r.sent().groupChanges(), r.sent().meterMods(), r.elapsed());
  }

  /**
   * See {@link #lastReconcile}. {@code groupMods} counts every group-mod (whole groups and bucket edits);
   * {@code foreign}, {@code foreignGroups}: flows and groups not Sluice's, left alone.
   */
  public record ReconcileReport(long generation, int flowsRead, int foreign, int flowMods, int groupsRead,
                                int foreignGroups, int groupMods, int meterMods, Duration elapsed) { }

  /**
   * Packet and byte counters of every policy flow, by cookie object id (a rule's id; 0 = isolation drops), summed
   * over every connected switch. Reads flow statistics filtered by the policy cookie category.
   */
  public java.util.concurrent.CompletableFuture<Map<Long, long[]>> policyCounters() {
    List<java.util.concurrent.CompletableFuture<Map<Long, long[]>>> parts = new java.util.ArrayList<>();
    long category = io.sluice.renderer.flow.Cookie.of(io.sluice.renderer.flow.Cookie.Category.POLICY, 0, 0).value();
    for (SwitchSync sync : switches.values()) {
      SwitchSession s = sync.session();
      if (s == null || !s.isActive()) {
        continue;
      }
      var req = s.factory().buildFlowStatsRequest().setXid(s.nextXid())
          .setTableId(org.projectfloodlight.openflow.types.TableId.ALL)
          .setOutPort(org.projectfloodlight.openflow.types.OFPort.ANY)
          .setOutGroup(org.projectfloodlight.openflow.types.OFGroup.ANY)
          .setCookie(U64.of(category)).setCookieMask(U64.of(0xffff000000000000L))
          .setMatch(s.factory().matchWildcardAll()).build();
      parts.add(s.rawMultipart(req).thenApply(frames -> {
        try {
          Map<Long, long[]> m = new java.util.HashMap<>();
          for (FlowCodec.Entry e : codec.parseStats(frames, s.version()).entries()) {
            long[] c = m.computeIfAbsent(e.cookie() & 0xffffffffL, k -> new long[2]);
            c[0] += e.packets();
            c[1] += e.bytes();
          }
          return m;
        } finally {
          frames.forEach(io.netty.buffer.ByteBuf::release);
        }
      }));
    }
    return java.util.concurrent.CompletableFuture.allOf(parts.toArray(java.util.concurrent.CompletableFuture[]::new))
        .thenApply(v -> {
          Map<Long, long[]> sum = new java.util.TreeMap<>();
          for (var p : parts) {
            p.join().forEach((k, c) -> {
              long[] t = sum.computeIfAbsent(k, x -> new long[2]);
              t[0] += c[0];
              t[1] += c[1];
            });
          }
          return sum;
        });
  }

  /** Rule ids withheld on some switch because it refused their flows, with the switch and its reason. */
  public Map<Long, String> withheldRules() {
    Map<Long, String> out = new java.util.TreeMap<>();
    for (SwitchSync s : switches.values()) {
      s.withheld().forEach((id, why) -> out.merge(id, s.status().datapathId() + ": " + why, (a, b) -> a + "; " + b));
    }
    return out;
  }

  /** The live session of a switch, or null. */
  public SwitchSession session(long dpid) {
    SwitchSync s = switches.get(dpid);
    return s == null ? null : s.session();
  }

  /** Connections refused because they claimed the datapath id of a switch connected and answering. */
  public long refusedDuplicates() {
    return refusedDuplicates.get();
  }

  public int connectedCount() {
    return connected.get();
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
