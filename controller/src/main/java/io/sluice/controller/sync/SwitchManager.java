package io.sluice.controller.sync;

import com.google.common.util.concurrent.MoreExecutors;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.session.SwitchSession;
import io.sluice.renderer.flow.DesiredTables;
import java.time.Duration;
import java.util.ArrayList;
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

  /**
   * The role to request from each switch (EQUAL: no request), with its generation id, and whether Sluice writes
   * under it. A standby that does not know the current leadership term yet asks for nothing and writes nothing
   * ({@link #STANDBY}): a SLAVE request with an older generation id than the switch has seen would be refused.
   */
  public record Role(OFControllerRole role, long generationId, boolean writes) {
    public Role(OFControllerRole role, long generationId) {
      this(role, generationId, role != OFControllerRole.ROLE_SLAVE);
    }

    public static final Role STANDBY = new Role(OFControllerRole.ROLE_EQUAL, 0, false);

    String describe() {
      return !writes && role == OFControllerRole.ROLE_EQUAL ? "STANDBY" : roleName(role);
    }
  }

  /**
   * How much work the manager may run at once and how long it remembers a switch that is gone.
   *
   * @param syncThreads threads for all switches' sync work together (and as many for reading flow dumps alongside);
   *                    never one per switch
   * @param forgetAfter a switch disconnected this long is forgotten (its status, what it held); its metric series go
   *                    at once when it disconnects
   */
  public record Options(int syncThreads, Duration forgetAfter) {
    public Options {
      if (syncThreads < 1 || forgetAfter.isNegative()) {
        throw new IllegalArgumentException("sync threads must be at least 1 and forget-after not negative, got "
            + syncThreads + " and " + forgetAfter);
      }
    }

    /** Two sync threads per CPU core (at least 4); disconnected switches forgotten after 10 minutes. */
    public static Options defaults() {
      return new Options(Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), Duration.ofMinutes(10));
    }
  }

  private final Map<Long, SwitchSync> switches = new ConcurrentHashMap<>();
  private final ExecutorService pool;
  private final ExecutorService helpers;
  private final Options options;
  static final Duration COUNTERS_TIMEOUT = Duration.ofSeconds(5);
  private final FlowCodec codec;
  private final BundleWriter writer;
  private final LongFunction<DesiredTables> render;
  private final SyncMetrics metrics;
  /** The role per shard ({@link #shardOf}); one shard unless leadership is split (--shards). */
  private final java.util.concurrent.atomic.AtomicReferenceArray<Role> roles;
  private final AtomicInteger connected = new AtomicInteger();
  private volatile long generation;

  /** The session that speaks for each datapath id (the first connected, while it is up). */
  private final Map<Long, SwitchSession> owners = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong refusedDuplicates = new java.util.concurrent.atomic.AtomicLong();
  private final io.sluice.controller.logging.LogLimiter logLimiter =
      new io.sluice.controller.logging.LogLimiter(Duration.ofSeconds(10));
  /** While held, switches complete their handshake but are neither reconciled nor written (see {@link #hold}). */
  private final Object holdLock = new Object();
  private boolean holding;
  private final List<Runnable> held = new java.util.ArrayList<>();

  /** Which switches take bundles (their profile's capability); the others get ordered phases. */
  private volatile java.util.function.LongPredicate bundles = dpid -> true;

  /** Says which switches take bundles (by datapath id), from their profiles; every switch does by default. */
  public void bundlesFor(java.util.function.LongPredicate byDpid) {
    bundles = byDpid;
  }

  /** A switch's limited table sizes (from its profile), with the profile's and the tables' names for reports. */
  public record TableBudgets(String profile, Map<Integer, String> names, Map<Integer, Integer> sizes) {
    public static final TableBudgets NONE = new TableBudgets("", Map.of(), Map.of());

    public TableBudgets {
      names = Map.copyOf(names);
      sizes = Map.copyOf(sizes);
    }
  }

  private volatile FloodHoldDown holdDown = FloodHoldDown.NONE;

  /**
   * The flood hold-down of switches carrying the stateless pipeline ({@link FloodHoldDown}): none by default. A
   * released switch renders and pushes again.
   */
  public void floodHoldDown(FloodHoldDown h) {
    holdDown = h;
    h.onRelease(dpid -> {
      SwitchSync s = switches.get(dpid);
      if (s != null) {
        s.modelChanged();
      }
    });
  }

  /** Each switch's table budgets; none by default. */
  private volatile java.util.function.LongFunction<TableBudgets> budgets = dpid -> TableBudgets.NONE;

  /**
   * Says each switch's table budgets (from its profile): before each push, the policy rules that would overflow a
   * table are withheld (their pods stay isolated) and reported like rules the switch refused.
   */
  public void budgetsFor(java.util.function.LongFunction<TableBudgets> byDpid) {
    budgets = byDpid;
  }

  /** Orders role changes against attaching sessions (see {@link #attachIfCurrent}). */
  private final Object roleLock = new Object();

  public SwitchManager(FlowCodec codec, LongFunction<DesiredTables> render, SyncMetrics metrics, Role role) {
    this(codec, render, metrics, role, 1, Options.defaults());
  }

  public SwitchManager(FlowCodec codec, LongFunction<DesiredTables> render, SyncMetrics metrics, Role role,
                       Options options) {
    this(codec, render, metrics, role, 1, options);
  }

  /** With {@code shards} shards, each starting in {@code role} (changed by {@link #changeRole}). */
  public SwitchManager(FlowCodec codec, LongFunction<DesiredTables> render, SyncMetrics metrics, Role role,
                       int shards, Options options) {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be at least 1");
    }
    this.codec = codec;
    this.render = render;
    this.metrics = metrics;
    this.options = options;
    this.roles = new java.util.concurrent.atomic.AtomicReferenceArray<>(shards);
    for (int i = 0; i < shards; i++) {
      roles.set(i, role == null ? new Role(OFControllerRole.ROLE_EQUAL, 0) : role);
    }
    this.writer = new BundleWriter(Duration.ofMinutes(2));
    // Bounded, and two pools: a switch's serial work waits on its dump reader, which must never queue behind it.
    this.pool = boundedPool("sluice-sync-", options.syncThreads());
    this.helpers = boundedPool("sluice-sync-read-", options.syncThreads());
  }

  private static ExecutorService boundedPool(String prefix, int threads) {
    AtomicInteger n = new AtomicInteger();
    java.util.concurrent.ThreadPoolExecutor p = new java.util.concurrent.ThreadPoolExecutor(threads, threads, 30,
        java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, prefix + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        });
    p.allowCoreThreadTimeOut(true);
    return p;
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
        MoreExecutors.newSequentialExecutor(pool), helpers, codec, writer, render, metrics, () -> generation));
    sync.useBundles(bundles.test(dpid));
    sync.holdDown(holdDown);
    sync.budgets(budgets.apply(dpid));
    metrics.switchConnected(session.name(), true, connected.incrementAndGet());
    synchronized (roleLock) {
      applyRole(session, sync, roles.get(shardOf(dpid, roles.length())), true);
    }
  }

  /**
   * The shard of a datapath id among {@code shards}: a fixed 64-bit mix of the id (so neighbouring ids spread), taken
   * modulo the shard count. Every replica computes the same answer; it never changes for a given count.
   */
  public static int shardOf(long dpid, int shards) {
    long z = dpid + 0x9e3779b97f4a7c15L;
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    z = z ^ (z >>> 31);
    return (int) Long.remainderUnsigned(z, shards);
  }

  public int shards() {
    return roles.length();
  }

  /** The role currently asked for in a shard. */
  public Role role(int shard) {
    return roles.get(shard);
  }

  /**
   * A new role for a shard (leadership won, lost or observed): a role that does not write stops every write to the
   * shard's switches at once, before the switches answer; then each connected switch of the shard is asked for the
   * role, and one that grants a writing role is reconciled (read back and corrected, never flushed).
   */
  public void changeRole(int shard, Role role) {
    List<Map.Entry<SwitchSession, SwitchSync>> ask = new ArrayList<>();
    synchronized (roleLock) {
      Role was = roles.getAndSet(shard, role);
      if (role.equals(was)) {
        return;
      }
      LOG.info("shard {}: role {} (generation id {}), was {}", shard, role.describe(), role.generationId(),
          was.describe());
      for (Map.Entry<Long, SwitchSession> e : owners.entrySet()) {
        if (shardOf(e.getKey(), roles.length()) != shard || !e.getValue().isActive()) {
          continue;
        }
        SwitchSync sync = switches.get(e.getKey());
        if (sync == null) {
          continue;
        }
        if (!role.writes()) {
          sync.stopWriting(role.describe());
        }
        ask.add(Map.entry(e.getValue(), sync));
      }
      // asked under the lock (the requests are only queued for writing): requests of two role changes, or of a
      // connect and a change, reach a switch in the order the roles were set
      for (Map.Entry<SwitchSession, SwitchSync> e : ask) {
        applyRole(e.getKey(), e.getValue(), role, false);
      }
    }
  }

  /**
   * Attaches the session with the role it was granted, unless its shard has been asked for another role since (that
   * request's answer attaches it): an answer that arrives, or a held switch released, after a newer role was asked
   * for must not undo it (a STANDBY attach run after a MASTER one would leave the leader not writing).
   */
  private void attachIfCurrent(SwitchSession session, SwitchSync sync, Role role, String granted) {
    synchronized (roleLock) {
      if (!session.isActive() || owners.get(session.dpid().getLong()) != session) {
        return; // a late answer on a connection that is gone or was replaced
      }
      if (!role.equals(roles.get(shardOf(session.dpid().getLong(), roles.length())))) {
        LOG.debug("switch {}: role {} answered after a newer role was asked for; its answer decides", session.name(),
            role.describe());
        return;
      }
      sync.attach(session, role.writes(), granted);
    }
  }

  private void applyRole(SwitchSession session, SwitchSync sync, Role role, boolean connecting) {
    boolean mayWrite = role.writes();
    if (role.role() != OFControllerRole.ROLE_EQUAL) {
      session.request(session.factory().buildRoleRequest().setXid(session.nextXid()).setRole(role.role())
              .setGenerationId(U64.of(role.generationId())).build())
          .whenComplete((reply, err) -> {
            if (err != null) {
              LOG.warn("switch {} refused role {} (generation id {}): {}; not writing to it", session.name(),
                  roleName(role.role()), role.generationId(), err.getMessage());
              session.close("role refused");
            } else if (role.equals(roles.get(shardOf(session.dpid().getLong(), roles.length())))) {
              String granted = reply instanceof OFRoleReply rr ? roleName(rr.getRole()) : roleName(role.role());
              LOG.info("switch {}: role {} granted (generation id {})", session.name(), granted, role.generationId());
              whenReleased(session, sync, () -> attachIfCurrent(session, sync, role, granted));
            } // else: a newer role was asked for meanwhile; its answer decides
          });
    } else if (connecting || mayWrite) {
      // Sync work starts once the switch has answered something (here a barrier; above, the role request), so a
      // switch that completes the handshake and then answers nothing never takes one of the bounded sync threads.
      session.barrier().whenComplete((ok, err) -> {
        if (err == null) {
          whenReleased(session, sync, () -> attachIfCurrent(session, sync, role, role.describe()));
        } else if (session.isActive()) {
          LOG.warn("switch {} did not answer a barrier after the handshake ({}); closing", session.name(), err.getMessage());
          session.close("no barrier reply");
        }
      });
    }
  }

  /**
   * Holds every switch back until {@link #release}: connections are accepted and answered, but nothing is read back
   * or written, so a switch keeps the tables it has. The runtime holds until its intent source has its whole first
   * state (every Kubernetes informer listed once); pushing earlier would realize a half-read cluster and open or
   * close traffic by accident.
   */
  public void hold() {
    synchronized (holdLock) {
      holding = true;
    }
  }

  /** Ends {@link #hold}: each switch connected meanwhile is reconciled now, in one bundle. */
  public void release() {
    List<Runnable> run;
    synchronized (holdLock) {
      if (!holding) {
        return;
      }
      holding = false;
      run = List.copyOf(held);
      held.clear();
    }
    if (!run.isEmpty()) {
      LOG.info("intent complete: reconciling the {} switches connected meanwhile", run.size());
    }
    run.forEach(Runnable::run);
  }

  /** True while switches are held back. */
  public boolean holding() {
    synchronized (holdLock) {
      return holding;
    }
  }

  private void whenReleased(SwitchSession session, SwitchSync sync, Runnable attach) {
    synchronized (holdLock) {
      if (holding) {
        sync.hold(session);
        held.add(() -> {
          if (session.isActive()) {
            attach.run();
          }
        });
        LOG.info("switch {} connected; held until the intent source has its first state", session.name());
        return;
      }
    }
    attach.run();
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
      sync.detach(session, reason);
    }
    metrics.switchConnected(session.name(), false, connected.decrementAndGet());
    LOG.warn("switch {} disconnected: {}; its flows stay in place (fail-mode secure) until it reconnects", session.name(), reason);
    if (sync != null) {
      long dpid = session.dpid().getLong();
      java.util.concurrent.CompletableFuture.delayedExecutor(options.forgetAfter().toMillis(),
          java.util.concurrent.TimeUnit.MILLISECONDS, pool).execute(() -> forget(dpid, sync));
    }
  }

  /** Drops a switch that stayed away (unless it came back: its datapath id has an owner again). */
  private void forget(long dpid, SwitchSync sync) {
    switches.computeIfPresent(dpid, (k, s) -> s == sync && !owners.containsKey(dpid) && s.session() == null ? null : s);
  }

  /** Switches known, connected or not (a disconnected one is forgotten after {@link Options#forgetAfter}). */
  public int knownCount() {
    return switches.size();
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
   * Packet and byte counters of every policy flow (rule allows, isolation drops, exemptions, admission), by cookie
   * without its round (ask {@link io.sluice.renderer.flow.Cookie}'s predicates what each is), summed over every
   * connected switch. A switch that does not answer within {@link #COUNTERS_TIMEOUT} contributes nothing (the others
   * still count).
   */
  /**
   * In {@link #policyCounters()}: the packets (and 0 bytes) the audit deny and allow meters dropped, under the audit
   * cookie whose object id is the meter's id.
   */
  public static final long AUDIT_DENY_METER_KEY = io.sluice.renderer.flow.Cookie.of(
      io.sluice.renderer.flow.Cookie.Category.AUDIT, 0, io.sluice.renderer.pipeline.PipelineProfile.AUDIT_DENY_METER.id()).value();
  public static final long AUDIT_ALLOW_METER_KEY = io.sluice.renderer.flow.Cookie.of(
      io.sluice.renderer.flow.Cookie.Category.AUDIT, 0, io.sluice.renderer.pipeline.PipelineProfile.AUDIT_ALLOW_METER.id()).value();

  public java.util.concurrent.CompletableFuture<Map<Long, long[]>> policyCounters() {
    List<java.util.concurrent.CompletableFuture<Map<Long, long[]>>> parts = new java.util.ArrayList<>();
    for (SwitchSync sync : switches.values()) {
      SwitchSession s = sync.session();
      if (s == null || !s.isActive()) {
        continue;
      }
      var req = s.factory().buildFlowStatsRequest().setXid(s.nextXid())
          .setTableId(org.projectfloodlight.openflow.types.TableId.ALL)
          .setOutPort(org.projectfloodlight.openflow.types.OFPort.ANY)
          .setOutGroup(org.projectfloodlight.openflow.types.OFGroup.ANY)
          .setCookie(U64.of(io.sluice.renderer.flow.Cookie.OWNER_TAG << 56))
          .setCookieMask(U64.of(io.sluice.renderer.flow.Cookie.OWNER_MASK))
          .setMatch(s.factory().matchWildcardAll()).build();
      // one switch that does not answer (or answers forever) costs only its own counters, after a bounded wait
      parts.add(s.rawMultipart(req).orTimeout(COUNTERS_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .thenApply(frames -> {
        try {
          Map<Long, long[]> m = new java.util.HashMap<>();
          for (FlowCodec.Entry e : codec.parseStats(frames, s.version()).entries()) {
            io.sluice.renderer.flow.Cookie cookie = new io.sluice.renderer.flow.Cookie(e.cookie());
            if (!(cookie.isRuleAllow() || cookie.isIsolationDrop() || cookie.isExemption() || cookie.isAdmission())) {
              continue;
            }
            long[] c = m.computeIfAbsent(cookie.withRound(0).value(), k -> new long[2]);
            c[0] += e.packets();
            c[1] += e.bytes();
          }
          return m;
        } finally {
          frames.forEach(io.netty.buffer.ByteBuf::release);
        }
      }).exceptionally(e -> {
        LOG.debug("switch {}: policy counters not read: {}", s.name(), e.toString());
        return Map.of();
      }));
      // the audit meters' drops (the copies they did not let through to the controller)
      parts.add(s.multipart(s.factory().buildMeterStatsRequest().setXid(s.nextXid())
              .setMeterId(0xffffffffL).build())
          .orTimeout(COUNTERS_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .thenApply(replies -> {
            Map<Long, long[]> m = new java.util.HashMap<>();
            for (var r : replies) {
              for (var st : r.getEntries()) {
                long key = st.getMeterId() == io.sluice.renderer.pipeline.PipelineProfile.AUDIT_DENY_METER.id()
                    ? AUDIT_DENY_METER_KEY : st.getMeterId() == io.sluice.renderer.pipeline.PipelineProfile.AUDIT_ALLOW_METER.id()
                    ? AUDIT_ALLOW_METER_KEY : 0;
                if (key != 0) {
                  long dropped = 0;
                  for (var band : st.getBandStats()) {
                    dropped += band.getPacketBandCount().getValue();
                  }
                  m.put(key, new long[] {dropped, 0});
                }
              }
            }
            return m;
          }).exceptionally(e -> {
            LOG.debug("switch {}: audit meter stats not read: {}", s.name(), e.toString());
            return Map.of();
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
    helpers.shutdownNow();
  }
}
