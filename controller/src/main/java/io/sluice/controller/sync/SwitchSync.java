package io.sluice.controller.sync;

import com.google.common.collect.Iterators;
import io.netty.buffer.ByteBuf;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.wire.GroupCodec;
import io.sluice.controller.wire.GroupReplies;
import io.sluice.controller.wire.MeterCodec;
import io.sluice.controller.wire.WireGroup;
import io.sluice.controller.wire.WireMeter;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.DesiredTables;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.FlowKey;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Meter;
import io.sluice.renderer.flow.NatBackend;
import io.sluice.renderer.pipeline.PipelineProfile;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongFunction;
import org.projectfloodlight.openflow.protocol.OFFlowStatsRequest;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;
import org.projectfloodlight.openflow.types.U64;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one switch's tables, groups and meters equal to its desired state. It knows what the switch holds (confirmed
 * by barrier), and on every change sends only the difference: meters the change adds or modifies first (OVS refuses
 * meters in bundles), confirmed by a barrier; then one bundle with the groups added or changed (a group after the
 * groups it points at), the flows added, changed and removed, and the groups removed (after the flows that used
 * them); after its commit, the meters no longer used. On (re)connect it reads the switch's flows, groups and meters
 * and reconciles without flushing: what is already right is left alone (flow counters survive, group buckets keep
 * their ids), flows whose cookie and groups and meters whose ids are not Sluice's are never touched. All work for
 * one switch runs in order on its own serial executor, never on an event loop.
 */
final class SwitchSync {
  private static final Logger LOG = LoggerFactory.getLogger(SwitchSync.class);

  private final long dpid;
  private final String name;
  private final Executor serial;
  private final Executor helper;
  private final FlowCodec codec;
  private final BundleWriter writer;
  private final LongFunction<DesiredTables> render;
  private final SyncMetrics metrics;
  private final java.util.function.LongSupplier modelGeneration;
  private final AtomicBoolean scheduled = new AtomicBoolean();

  private volatile SwitchSession session;
  private volatile long realizedGeneration;
  private volatile int flowCount;
  private volatile int groupCount;
  private volatile int meterCount;
  private volatile String lastError;
  private volatile boolean atomic = true;
  private volatile boolean useBundle = true;
  private volatile boolean reconciled;
  private volatile boolean writable = true;
  private volatile PushResult lastPush;
  private volatile String role = "EQUAL";
  private volatile Map<Long, String> withheld = Map.of();
  private volatile Reconcile lastReconcile;
  private final java.util.concurrent.atomic.AtomicLong backendFlushes = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong backendFlushFailures = new java.util.concurrent.atomic.AtomicLong();
  private volatile String lastFlushFailure;
  private volatile boolean flushFailureLogged;

  /**
   * How the last reconcile went: from reading the switch's flows, groups and meters to the confirming barrier.
   * {@code foreign}: flows sync leaves alone (not Sluice's, or learned by the switch); {@code foreignGroups}: groups outside Sluice's id range (both left alone).
   */
  record Reconcile(long generation, int flowsRead, int foreign, int groupsRead, int foreignGroups,
                   PushResult.Sent sent, java.time.Duration elapsed) { }

  // serial-executor state
  private Map<Object, FlowCodec.Entry> installed = new HashMap<>();
  /** Sluice's groups the switch holds, with the switch's bucket ids. */
  private Map<Long, WireGroup> installedGroups = new HashMap<>();
  /** Sluice's meters the switch holds. */
  private Map<Long, WireMeter> installedMeters = new HashMap<>();
  private OFVersion encodedFor;
  private Map<FlowKey, Flow> lastFlows = Map.of();
  private Map<FlowKey, FlowCodec.Entry> lastEntries = Map.of();
  private OFVersion groupsEncodedFor;
  private Map<Long, Group> lastGroups = Map.of();
  private Map<Long, WireGroup> lastGroupEntries = Map.of();
  /**
   * The base a next push can be diffed from flow by flow ({@link Delta}): the desired tables of the last push the
   * switch applied and the encodings it was sent with, while {@link #installed} is exactly those encodings (one flow
   * per wire identity). Null when the switch's flows are known otherwise (a dump, a refusal, another version).
   */
  private DesiredTables appliedDesired;
  /**
   * Where Sluice's flows per table are counted from, for the status API, only when asked (a push never pays for it):
   * the desired tables the last applied push realized, or the flows a reconcile that may not write read back.
   */
  private volatile Object tableSource = Map.of();
  /** The last count and what it was counted from. */
  private volatile Object[] tableCount = {null, Map.of()};
  private Map<FlowKey, FlowCodec.Entry> appliedEntries;
  private OFVersion appliedVersion;
  /** When the conntrack entries of gone UDP/SCTP backends are cleared a second time (see flushGoneBackends). */
  private static final Duration REFLUSH_AFTER = Duration.ofSeconds(1);
  /** Pushes that went out diffed flow by flow (tests and the status of the sync path). */
  private volatile long deltaPushes;
  /** More changed flows than this: diff the whole tables. */
  private static final int DELTA_LIMIT = 4_096;
  /** The UDP/SCTP backends of the last push this connection applied; null before the first (nothing known). */
  private Set<NatBackend> realizedBackends;

  /**
   * @param serial runs all of this switch's work, in order
   * @param helper runs one task of a reconcile alongside it (reading the switch's flow dump while the desired state
   *               is encoded); its results are handed back to the serial work before they are used
   */
  SwitchSync(long dpid, String name, Executor serial, Executor helper, FlowCodec codec, BundleWriter writer,
             LongFunction<DesiredTables> render, SyncMetrics metrics, java.util.function.LongSupplier modelGeneration) {
    this.helper = helper;
    this.modelGeneration = modelGeneration;
    this.dpid = dpid;
    this.name = name;
    this.serial = serial;
    this.codec = codec;
    this.writer = writer;
    this.render = render;
    this.metrics = metrics;
  }

  /**
   * Whether changes to this switch go in bundles (its profile's {@code bundles} capability): without, they go as two
   * ordered phases ({@link OrderedChanges}) and the switch is shown as not atomic.
   */
  void useBundles(boolean bundles) {
    useBundle = bundles;
    atomic = bundles;
  }

  /** The flood hold-down this switch takes part in ({@link FloodHoldDown#NONE} by default). */
  void holdDown(FloodHoldDown h) {
    holdDown = h;
  }

  /** What the status says of a switch whose floods are held. */
  static final String HELD = "flood hold-down: nothing is flooded until fabric discovery has found this switch's links";
  private volatile FloodHoldDown holdDown = FloodHoldDown.NONE;
  /**
   * Serial work only. {@code deferred}: the switch carried Sluice's flows when this writer began, and nothing is
   * pushed to it while it is held. {@code renderHeld}: the last render was made with its floods held (its push is not
   * reported realized).
   */
  private boolean deferred;
  private boolean renderHeld;

  /** A session for this switch finished its handshake: reconcile, then follow the model. */
  void attach(SwitchSession s, boolean mayWrite, String grantedRole) {
    session = s;
    role = grantedRole;
    writable = mayWrite;
    reconciled = false;
    realizedGeneration = 0; // nothing is confirmed on a new connection until its reconcile's barrier
    serial.execute(() -> reconcile(s, true));
  }

  /**
   * A session that finished its handshake while the runtime holds switches back: shown as connected, neither read
   * nor written until {@link #attach}.
   */
  void hold(SwitchSession s) {
    session = s;
    reconciled = false;
    realizedGeneration = 0;
    lastError = "held: the intent source does not have its first state yet (see /readyz)";
  }

  /** Stops writing at once (leadership lost): pushes already queued find the switch not writable and skip. */
  void stopWriting(String newRole) {
    writable = false;
    role = newRole;
  }

  /** The switch's connection is gone, and why (shown as its last error: a reconcile it cut short says less). */
  void detach(SwitchSession s, String reason) {
    if (session == s) {
      session = null;
      lastError = "switch " + name + " disconnected: " + reason;
      serial.execute(this::dropTables);
    }
  }

  /**
   * Serial work: a switch gone lets go of what it held and the encodings cached for it (a reconnect reads the switch
   * again anyway), so a switch remembered until it is forgotten costs its status, not its tables.
   */
  private void dropTables() {
    if (session != null) {
      return; // it came back meanwhile: its reconcile (queued after this) owns the tables
    }
    installed = new HashMap<>();
    installedGroups = new HashMap<>();
    installedMeters = new HashMap<>();
    encodedFor = null;
    lastFlows = Map.of();
    lastEntries = Map.of();
    groupsEncodedFor = null;
    lastGroups = Map.of();
    lastGroupEntries = Map.of();
    appliedDesired = null;
    appliedEntries = null;
    appliedVersion = null;
    realizedBackends = null;
    tableSource = Map.of();
  }

  /** The model changed: render and push the difference (coalesced: only the newest state is pushed). */
  void modelChanged() {
    if (scheduled.compareAndSet(false, true)) {
      serial.execute(() -> {
        scheduled.set(false);
        SwitchSession s = session;
        if (s != null && !reconciled && writable && s == orderedFailureSession) {
          // a change without bundles failed the same way as before and was not re-read then: re-read now
          orderedFailureSession = null;
          reconcile(s);
          return;
        }
        if (s != null && reconciled && writable) {
          boolean held = holdDown.held(dpid);
          if (deferred) {
            if (held) {
              return; // it keeps the flows it carries until its hold-down is over (then this runs again)
            }
            deferred = false;
          }
          renderHeld = held;
          DesiredTables desired;
          try {
            desired = render.apply(dpid);
          } catch (RuntimeException e) {
            // e.g. a flow using a group or meter that is not desired: the switch keeps what it has
            lastError = "render failed: " + e.getMessage();
            LOG.warn("switch {}: rendering its tables failed; it keeps its previous tables: {}", name, e.toString());
            return;
          }
          apply(s, desired);
        }
      });
    }
  }

  SwitchStatus status() {
    SwitchSession s = session;
    List<SwitchStatus.TableUse> tables = new java.util.ArrayList<>();
    tableFlows().forEach((id, n) -> tables.add(new SwitchStatus.TableUse(id, null, n, null)));
    return new SwitchStatus(name, s != null && s.isActive(), s == null ? null : String.valueOf(s.version()),
        s == null ? null : String.valueOf(s.remoteAddress()), role, realizedGeneration, flowCount, groupCount,
        meterCount, atomic, lastError,
        s == null ? List.of() : s.ports().stream().sorted(java.util.Comparator.comparingLong(io.sluice.controller.session.SwitchPort::portNo)).toList(),
        tables);
  }

  /** Sluice's flows per table id (see {@link #tableSource}), counted once per source. */
  @SuppressWarnings("unchecked")
  private Map<Integer, Integer> tableFlows() {
    Object source = tableSource;
    Object[] last = tableCount;
    if (last[0] == source) {
      return (Map<Integer, Integer>) last[1];
    }
    Map<Integer, Integer> counted;
    if (source instanceof DesiredTables d) {
      Map<Integer, Integer> out = new java.util.TreeMap<>();
      for (io.sluice.renderer.flow.Flow f : d.flows().values()) {
        out.merge(f.table(), 1, Integer::sum);
      }
      counted = java.util.Collections.unmodifiableMap(out);
    } else {
      counted = new java.util.TreeMap<>((Map<Integer, Integer>) source);
    }
    tableCount = new Object[] {source, counted};
    return counted;
  }

  /** Sluice's flows per table id in flows read back from the switch, sorted by id. */
  private static Map<Integer, Integer> countByTable(Map<Object, FlowCodec.Entry> flows) {
    Map<Integer, Integer> out = new java.util.TreeMap<>();
    for (FlowCodec.Entry e : flows.values()) {
      if (e.key() instanceof io.sluice.controller.wire.WireFlow.Key k) {
        out.merge(k.table(), 1, Integer::sum);
      }
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private volatile SwitchManager.TableBudgets budgets = SwitchManager.TableBudgets.NONE;
  /** The last failure of a push without bundles that started a re-read (see {@link #push}). */
  private String lastOrderedFailure;
  /** A session whose re-read waits for the next model change (the same failure twice in a row). */
  private SwitchSession orderedFailureSession;

  void budgets(SwitchManager.TableBudgets b) {
    budgets = b;
  }

  /**
   * Policy rules to withhold before pushing so that every table fits its size: in each table over its budget, the
   * rules with the most flows there first (fewest rules failing closed; ties by rule id), until it fits. Base and
   * isolation flows are never withheld: a table they alone overflow is left to the switch (which refuses, and keeps
   * its previous tables).
   */
  private Map<Long, String> overBudget(DesiredTables desired) {
    SwitchManager.TableBudgets b = budgets;
    if (b.sizes().isEmpty()) {
      return Map.of();
    }
    Map<Integer, Integer> count = new HashMap<>();
    // per table, each rule's flows there: a rule withheld for one table gives back its flows in every table
    Map<Integer, Map<Long, Integer>> perRule = new HashMap<>();
    for (Flow f : desired.flows().values()) {
      count.merge(f.table(), 1, Integer::sum);
      if (f.cookie().isRuleAllow()) {
        perRule.computeIfAbsent(f.table(), k -> new HashMap<>()).merge(f.cookie().objectId(), 1, Integer::sum);
      }
    }
    Map<Long, String> out = new java.util.TreeMap<>();
    for (Map.Entry<Integer, Integer> size : new java.util.TreeMap<>(b.sizes()).entrySet()) {
      int table = size.getKey();
      if (count.getOrDefault(table, 0) <= size.getValue()) {
        continue;
      }
      List<Map.Entry<Long, Integer>> rules = new ArrayList<>(perRule.getOrDefault(table, Map.of()).entrySet());
      rules.removeIf(e -> out.containsKey(e.getKey()));
      rules.sort(Map.Entry.<Long, Integer>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
      String why = "over the budget of table " + table + " (" + b.names().getOrDefault(table, "?") + ") of profile "
          + b.profile() + ": " + count.get(table) + " flows for " + size.getValue();
      for (Map.Entry<Long, Integer> rule : rules) {
        if (count.getOrDefault(table, 0) <= size.getValue()) {
          break;
        }
        out.put(rule.getKey(), why);
        for (Map.Entry<Integer, Map<Long, Integer>> t : perRule.entrySet()) {
          Integer n = t.getValue().get(rule.getKey());
          if (n != null) {
            count.merge(t.getKey(), -n, Integer::sum);
          }
        }
      }
    }
    return out;
  }

  /** Policy rules (cookie object ids) whose flows this switch refused and which are withheld, with the reason. */
  Map<Long, String> withheld() {
    return withheld;
  }

  SwitchSession session() {
    return session;
  }

  boolean connected() {
    SwitchSession s = session;
    return s != null && s.isActive();
  }

  PushResult lastPush() {
    return lastPush;
  }

  Reconcile lastReconcile() {
    return lastReconcile;
  }

  // ---------------------------------------------------------------- work (serial executor)

  private void reconcile(SwitchSession s) {
    reconcile(s, false);
  }

  /** @param begins a writer begins (a new connection, a new role): the switch's flood hold-down begins too */
  private void reconcile(SwitchSession s, boolean begins) {
    if (session != s) {
      return;
    }
    boolean held = writable && (begins ? holdDown.begin(dpid) : holdDown.held(dpid));
    deferred = false;
    renderHeld = held;
    realizedBackends = null; // what this switch's conntrack holds is unknown: the first push flushes nothing
    long t0 = System.nanoTime();
    DesiredTables desired;
    DumpReader actual;
    FlowDump dump = new FlowDump();
    RawDump groupDump = requestRaw(s, GroupCodec::writeDescRequest);
    RawDump meterDump = requestRaw(s, MeterCodec::writeConfigRequest);
    GroupsRead groups;
    MetersRead meters;
    try {
      requestFlows(s, dump).whenComplete((ok, err) -> dump.finished(err));
      long deadline = t0 + TimeUnit.MINUTES.toNanos(2);
      CompletableFuture<Void> reading;
      long tRender;
      long tPrime;
      try {
        desired = render.apply(dpid);
        tRender = System.nanoTime();
        // read the switch's flows part by part as they arrive, while this thread encodes the desired state
        DumpReader reader = new DumpReader(s.version(), desired.size());
        actual = reader;
        reading = CompletableFuture.runAsync(() -> reader.readAll(dump, deadline), helper);
        prime(desired, s.version());
        tPrime = System.nanoTime();
      } catch (RuntimeException e) {
        dump.close(); // stops the reading and releases what arrives
        throw e;
      }
      try {
        reading.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
      } catch (java.util.concurrent.TimeoutException | InterruptedException e) {
        throw new IllegalStateException("flow dump not read in time", e);
      }
      if (LOG.isDebugEnabled()) {
        LOG.debug("switch {}: reconcile: render {} ms, encode {} ms; the switch finished sending at {} ms, its {} flows "
                + "({} parts) were read at {} ms", name, (tRender - t0) / 1_000_000, (tPrime - tRender) / 1_000_000,
            (dump.finishedAt() - t0) / 1_000_000, actual.flows.size(), actual.parts,
            (System.nanoTime() - t0) / 1_000_000);
      }
      groups = readGroups(groupDump, deadline, !desired.groups().isEmpty());
      meters = readMeters(meterDump, deadline, !desired.meters().isEmpty());
    } catch (RuntimeException e) {
      dump.close();
      groupDump.abandon();
      meterDump.abandon();
      if (session == s) { // else the disconnect, with its reason, is the error to show
        lastError = "reconcile failed: " + e.getMessage();
      }
      LOG.warn("switch {}: could not render its tables or read its flows, groups and meters to reconcile ({}); will "
          + "retry on reconnect", name, e.toString());
      return;
    }
    if (actual.skipped > 0) {
      LOG.warn("switch {}: {} flows in its dump could not be read and are left alone", name, actual.skipped);
    }
    int foreign = actual.foreign;
    Map<Object, FlowCodec.Entry> owned = actual.flows;
    if (foreign > 0) {
      owned = new HashMap<>(actual.flows.size() * 4 / 3 + 1);
      for (FlowCodec.Entry e : actual.flows.values()) {
        if (Cookie.isSynced(e.cookie())) {
          owned.put(e.key(), e);
        }
      }
    }
    if (groups.unreadable > 0) {
      LOG.warn("switch {}: {} of its groups could not be read; Sluice's among them are rewritten", name, groups.unreadable);
    }
    installed = owned;
    appliedDesired = null;
    installedGroups = groups.owned;
    installedMeters = meters.owned;
    if (held && !owned.isEmpty()) {
      // it keeps forwarding as its previous writer left it (along the tree of the links known then): better than a
      // render from links not yet rediscovered; the difference is pushed once discovery has answered
      deferred = true;
      reconciled = true;
      flowCount = owned.size();
      tableSource = Map.copyOf(countByTable(owned));
      groupCount = installedGroups.size();
      meterCount = installedMeters.size();
      lastError = HELD;
      LOG.info("switch {}: carries {} Sluice flows already; they stay as they are until fabric discovery has found its "
          + "links (flood hold-down), then the difference is pushed", name, owned.size());
      holdDown.carriesBaseFlows(dpid);
      return;
    }
    if (!writable) {
      reconciled = true;
      flowCount = owned.size();
      tableSource = Map.copyOf(countByTable(owned));
      groupCount = installedGroups.size();
      meterCount = installedMeters.size();
      LOG.info("switch {}: read {} Sluice flows, {} groups, {} meters; not writing (role {})", name, owned.size(),
          installedGroups.size(), installedMeters.size(), role);
      return;
    }
    PushResult r = apply(s, desired, actual.flows);
    reconciled = true;
    if (r != null) {
      lastReconcile = new Reconcile(desired.generation(), actual.flows.size(), foreign,
          groups.owned.size() + groups.foreign, groups.foreign, r.sent(), java.time.Duration.ofNanos(System.nanoTime() - t0));
      LOG.info("switch {} reconciled to generation {}: {} flows, {} groups, {} meters desired; {} flow-mods, {} group-mods, "
              + "{} meter-mods sent; {} foreign flows, {} foreign groups, {} foreign meters left alone; {} ms",
          name, desired.generation(), desired.size(), desired.groups().size(), desired.meters().size(), r.flowMods(),
          r.sent().groupChanges(), r.sent().meterMods(), foreign, groups.foreign, meters.foreign,
          (System.nanoTime() - t0) / 1_000_000);
    }
    if (modelGeneration.getAsLong() != desired.generation()) {
      modelChanged(); // the model moved on while we reconciled
    }
  }

  /** Sluice's groups a switch holds, and how many of its groups are not Sluice's or could not be read. */
  private record GroupsRead(Map<Long, WireGroup> owned, int foreign, int unreadable) { }

  /** Sluice's meters a switch holds, and how many of its meters are not Sluice's. */
  private record MetersRead(Map<Long, WireMeter> owned, int foreign) { }

  /** Writes a multipart request with a given xid. */
  @FunctionalInterface
  private interface RequestWriter {
    void write(ByteBuf out, OFVersion v, long xid);
  }

  /** Sends a raw multipart request; the reply parts come back raw (Nicira actions in group buckets). */
  private static RawDump requestRaw(SwitchSession s, RequestWriter w) {
    long x = s.nextXid();
    ByteBuf req = io.netty.buffer.Unpooled.buffer(32);
    w.write(req, s.version(), x);
    return new RawDump(s.rawMultipart(x, req));
  }

  /** A raw multipart reply on its way; whoever takes its parts releases them. Serial work only. */
  private static final class RawDump {
    private final CompletableFuture<List<ByteBuf>> parts;
    private boolean taken;

    RawDump(CompletableFuture<List<ByteBuf>> parts) {
      this.parts = parts;
    }

    /** Every part (the caller releases them), waiting until the deadline; on failure, late parts are released. */
    List<ByteBuf> take(long deadline, String what) {
      taken = true;
      try {
        return await(parts, deadline, what);
      } catch (IllegalStateException e) {
        parts.thenAccept(l -> l.forEach(ByteBuf::release));
        throw e;
      }
    }

    /** Nobody will take the parts: release them when they come. */
    void abandon() {
      if (!taken) {
        taken = true;
        parts.thenAccept(l -> l.forEach(ByteBuf::release));
      }
    }
  }

  /**
   * Waits for the switch's groups and keeps Sluice's. A switch that refuses to describe its groups is taken to
   * hold none of Sluice's when none are desired (nothing of it is touched then); otherwise reconciling fails.
   */
  private GroupsRead readGroups(RawDump dump, long deadline, boolean needed) {
    List<ByteBuf> parts;
    try {
      parts = dump.take(deadline, "group descriptions");
    } catch (IllegalStateException e) {
      if (needed) {
        throw e;
      }
      LOG.debug("switch {}: groups not read ({}); none are desired", name, e.getMessage());
      return new GroupsRead(new HashMap<>(), 0, 0);
    }
    try {
      GroupReplies.Desc d = GroupReplies.parseDesc(parts);
      Map<Long, WireGroup> owned = new HashMap<>();
      int foreign = 0;
      for (WireGroup g : d.groups()) {
        if (Group.isOwned(g.id())) {
          owned.put(g.id(), g);
        } else {
          foreign++;
        }
      }
      return new GroupsRead(owned, foreign, d.unreadable());
    } finally {
      parts.forEach(ByteBuf::release);
    }
  }

  /** As {@link #readGroups}, for meters. */
  private MetersRead readMeters(RawDump dump, long deadline, boolean needed) {
    List<ByteBuf> parts;
    try {
      parts = dump.take(deadline, "meter configurations");
    } catch (IllegalStateException e) {
      if (needed) {
        throw e;
      }
      LOG.debug("switch {}: meters not read ({}); none are desired", name, e.getMessage());
      return new MetersRead(new HashMap<>(), 0);
    }
    try {
      Map<Long, WireMeter> owned = new HashMap<>();
      int foreign = 0;
      for (WireMeter m : MeterCodec.parseConfig(parts)) {
        if (Meter.isOwned(m.id())) {
          owned.put(m.id(), m);
        } else {
          foreign++;
        }
      }
      return new MetersRead(owned, foreign);
    } finally {
      parts.forEach(ByteBuf::release);
    }
  }

  private static <T> T await(CompletableFuture<T> f, long deadline, String what) {
    try {
      return f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable c = e.getCause();
      throw new IllegalStateException(what + ": " + (c.getMessage() != null ? c.getMessage() : c), c);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(what + " not read in time", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while reading " + what, e);
    }
  }

  /**
   * The switch's flows by wire identity, read part by part from a {@link FlowDump} by one helper task; the serial
   * work uses the result only after that task completed.
   */
  private final class DumpReader {
    final Map<Object, FlowCodec.Entry> flows;
    final OFVersion version;
    int foreign;
    int skipped;
    int parts;

    DumpReader(OFVersion version, int expected) {
      this.version = version;
      this.flows = new HashMap<>(expected * 4 / 3 + 1);
    }

    /** Reads every part, waiting for the last one until the deadline. */
    void readAll(FlowDump dump, long deadlineNanos) {
      for (ByteBuf part; (part = dump.take(deadlineNanos)) != null; ) {
        read(part);
      }
    }

    private void read(ByteBuf part) {
      try {
        parts++;
        skipped += codec.parsePart(part, version, e -> {
          if (!Cookie.isSynced(e.cookie())) {
            foreign++;
          }
          flows.put(e.key(), e);
        });
      } finally {
        part.release();
      }
    }
  }

  private PushResult apply(SwitchSession s, DesiredTables desired) {
    return apply(s, desired, installed);
  }

  /**
   * Pushes desired; when the switch refuses flows of allow rules (policy objects), pushes again without those rules'
   * flows, so everything else — default-deny isolation included — still applies: an unrealizable rule fails closed.
   * Base-pipeline and isolation flows are never withheld; if the switch refuses one of those, it keeps its previous
   * tables.
   */
  private PushResult apply(SwitchSession s, DesiredTables desired, Map<Object, FlowCodec.Entry> actual) {
    Map<Long, String> withhold = new java.util.TreeMap<>(overBudget(desired));
    if (!withhold.isEmpty()) {
      desired = desired.withFlows(desired.flows().values().stream()
          .filter(f -> !(f.cookie().isRuleAllow() && withhold.containsKey(f.cookie().objectId()))).toList());
      if (!withhold.keySet().equals(withheld.keySet())) {
        LOG.warn("switch {}: withholding the flows of {} policy rule(s) over its profile's table budgets; their pods "
            + "stay isolated: {}", name, withhold.size(), withhold);
      }
    }
    PushResult r = push(s, desired, actual, withheld.isEmpty());
    // (without bundles a refused change may have partly applied: the retry's ops are idempotent, so it ends in the
    // desired state all the same)
    for (int attempt = 0; attempt < 3 && r != null && !r.applied(); attempt++) {
      boolean more = false;
      for (PushResult.Refusal f : r.refused()) {
        Cookie c = new Cookie(f.cookie());
        if (c.isRuleAllow()
            && withhold.putIfAbsent(c.objectId(), f.reason() + " (" + f.what().trim() + ")") == null) {
          more = true;
        }
      }
      if (!more) {
        break;
      }
      List<Flow> kept = new ArrayList<>();
      for (Flow f : desired.flows().values()) {
        if (!(f.cookie().isRuleAllow() && withhold.containsKey(f.cookie().objectId()))) {
          kept.add(f);
        }
      }
      if (!withhold.keySet().equals(withheld.keySet())) {
        LOG.warn("switch {}: withholding the flows of {} policy rule(s) the switch refused; their pods stay isolated: {}",
            name, withhold.size(), withhold);
      }
      r = push(s, desired.withFlows(kept), actual, true);
    }
    if (r != null && r.applied()) {
      withheld = Map.copyOf(withhold);
    }
    return r;
  }

  /**
   * Diffs desired against what the switch holds and pushes the difference (meters added or changed, then one bundle,
   * then meters removed); returns null if the switch went away or the desired state cannot be encoded.
   */
  private PushResult push(SwitchSession s, DesiredTables desired, Map<Object, FlowCodec.Entry> actual, boolean loud) {
    long tA = System.nanoTime();
    OFVersion v = s.version();
    PushResult r;
    Map<Object, FlowCodec.Entry> want = null;
    GroupDiff.Plan groups = null;
    try {
      groups = GroupDiff.plan(encodeGroups(desired, v), installedGroups, v);
      Map<Long, WireMeter> meters = new HashMap<>();
      for (Meter m : desired.meters().values()) {
        meters.put(m.id(), MeterCodec.wireMeter(m));
      }
      List<SwitchOp> meterUpserts = new ArrayList<>();
      for (WireMeter m : meters.values()) {
        WireMeter have = installedMeters.get(m.id());
        if (!m.equals(have)) {
          int cmd = have == null ? MeterCodec.ADD : MeterCodec.MODIFY;
          meterUpserts.add(new SwitchOp(SwitchOp.Target.METER, have == null ? SwitchOp.Kind.ADD : SwitchOp.Kind.MODIFY,
              m, 0, (out, x) -> MeterCodec.writeMod(out, cmd, m, v, x)));
        }
      }
      List<SwitchOp> meterDeletes = new ArrayList<>();
      for (WireMeter m : installedMeters.values()) {
        if (!meters.containsKey(m.id())) {
          meterDeletes.add(new SwitchOp(SwitchOp.Target.METER, SwitchOp.Kind.DELETE, m, 0,
              (out, x) -> MeterCodec.writeDelete(out, m.id(), v, x)));
        }
      }
      // 1. meters the flows will use, before the bundle (OVS refuses meters in bundles), confirmed by a barrier
      PushResult before = writer.sendPlain(s, meterUpserts).get(5, TimeUnit.MINUTES);
      Set<Object> refusedMeters = refusedSubjects(before);
      for (SwitchOp op : meterUpserts) {
        if (!refusedMeters.contains(op.subject())) {
          WireMeter m = (WireMeter) op.subject();
          installedMeters.put(m.id(), m);
        }
      }
      if (!before.applied()) {
        r = new PushResult(false, true, before.sent(), Duration.ofNanos(System.nanoTime() - tA), before.refused(),
            "meters refused, nothing else sent: " + before.failure());
      } else {
        // 2. one bundle: groups added or changed, flows, groups removed
        Delta delta = delta(desired, actual, v);
        Diff diff = delta == null ? new Diff(desired, actual, v) : null;
        CompletableFuture<PushResult> pf;
        if (!useBundle) {
          List<SwitchOp> flowOps = new ArrayList<>();
          if (delta != null) {
            flowOps.addAll(delta.ops);
          } else {
            diff.forEachRemaining(flowOps::add);
          }
          pf = CompletableFuture.completedFuture(pushOrdered(s, groups, flowOps, actual, v));
        } else {
          pf = delta != null
              ? writer.push(s, bundled(groups, delta.ops.iterator()),
                  groups.upserts().size() + delta.ops.size() + groups.deletes().size(), useBundle)
              : writer.push(s, bundled(groups, diff), maxOps(groups, desired, actual), useBundle);
        }
        long tD = System.nanoTime();
        r = pf.get(5, TimeUnit.MINUTES);
        if (delta != null) {
          deltaPushes++;
          if (r.applied()) {
            delta.applyTo(installed, appliedEntries);
            appliedDesired = desired;
            lastFlows = desired.flows();
            lastEntries = appliedEntries;
          }
          want = installed;
        } else {
          want = diff.want;
          if (r.applied()) {
            boolean oneToOne = want.size() == lastEntries.size() && lastFlows == desired.flows();
            appliedDesired = oneToOne ? desired : null;
            appliedEntries = oneToOne ? new HashMap<>(lastEntries) : null;
            appliedVersion = v;
          }
        }
        if (LOG.isDebugEnabled()) {
          LOG.debug("switch {}: generation {}: encode+diff+write {} ms, then switch {} ms ({})", name,
              desired.generation(), (tD - tA) / 1_000_000, (System.nanoTime() - tD) / 1_000_000, r.sent());
        }
        if (BundleWriter.bundlesUnsupported(r) && v == OFVersion.OF_13) {
          LOG.warn("switch {} does not answer the ONF bundle extension on OpenFlow 1.3: changes go out as ordered "
              + "messages and a barrier, NOT atomically (enable OpenFlow 1.4+ on the bridge for atomic changes)", name);
          useBundle = false;
          atomic = false;
          appliedDesired = null;
          Diff again = new Diff(desired, actual, v);
          List<SwitchOp> flowOps = new ArrayList<>();
          again.forEachRemaining(flowOps::add);
          r = pushOrdered(s, groups, flowOps, actual, v);
          want = again.want;
        }
        // 3. meters no longer used, once the flows that used them are gone
        PushResult after = null;
        if (r.applied() && !meterDeletes.isEmpty()) {
          after = writer.sendPlain(s, meterDeletes).get(5, TimeUnit.MINUTES);
          for (SwitchOp op : meterDeletes) {
            installedMeters.remove(((WireMeter) op.subject()).id());
          }
          if (!after.applied()) {
            LOG.warn("switch {}: meters no longer used could not all be deleted (left in place, unused): {}", name,
                after.refused().isEmpty() ? after.failure() : after.refused());
          }
        }
        PushResult.Sent sent = before.sent().plus(r.sent()).plus(after == null ? PushResult.Sent.NONE : after.sent());
        r = new PushResult(r.applied(), r.atomic(), sent, Duration.ofNanos(System.nanoTime() - tA), r.refused(), r.failure());
      }
    } catch (Exception e) {
      if (session != s) {
        return null;
      }
      // an IllegalArgumentException is the desired state refused before sending (e.g. a group too large for one
      // message): its message names the object
      lastError = "push failed: " + (e instanceof IllegalArgumentException ? e.getMessage() : e.toString());
      LOG.warn("switch {}: push of generation {} failed, the switch keeps its previous tables: {}", name,
          desired.generation(), lastError);
      return null;
    } finally {
      meterCount = installedMeters.size();
    }
    lastPush = r;
    if (r.applied()) {
      installed = want;
      installedGroups = groups.after();
      // counts first: a reader that sees the generation realized sees the tables that realized it
      flowCount = installed.size();
      tableSource = desired;
      groupCount = installedGroups.size();
      if (renderHeld) {
        // its floods are held: not realized yet (traffic to where it would flood does not get there)
        lastError = HELD;
        holdDown.carriesBaseFlows(dpid);
      } else {
        realizedGeneration = desired.generation();
        lastError = null;
      }
      flushGoneBackends(s, desired.natBackends());
    } else {
      StringBuilder why = new StringBuilder(r.failure());
      for (PushResult.Refusal f : r.refused()) {
        why.append("; refused ").append(f.what().trim()).append(": ").append(f.reason());
      }
      lastError = why.toString();
      if (loud) {
        LOG.warn("switch {}: generation {} NOT applied, the switch keeps its previous tables: {}", name,
            desired.generation(), lastError);
      } else {
        LOG.debug("switch {}: generation {} refused again for the rules already withheld: {}", name,
            desired.generation(), lastError);
      }
      if (!r.atomic()) {
        // ordered messages may have partly applied: re-read, once per distinct failure (the same refusal again waits
        // for the next change, so a switch that keeps refusing is not read and rewritten in a loop)
        reconciled = false;
        if (!lastError.equals(lastOrderedFailure)) {
          lastOrderedFailure = lastError;
          serial.execute(() -> reconcile(s));
        } else {
          orderedFailureSession = s; // the next model change re-reads it
        }
      }
    }
    if (!r.applied()) {
      flowCount = installed.size();
      groupCount = installedGroups.size();
    }
    metrics.pushed(name, r.sent().total(), r.elapsed().toNanos() / 1e9, r.applied(), flowCount, realizedGeneration);
    return r;
  }

  /**
   * After a committed push: clears the conntrack entries of the UDP/SCTP backends the previous push had and this one
   * has not (a client that keeps sending would otherwise keep its entry, and its endpoint, forever), each one
   * NXT_CT_FLUSH in the switch's zone by reply source, then a barrier. A switch that refuses or does not confirm it
   * keeps its new tables: counted, logged once per switch.
   */
  private void flushGoneBackends(SwitchSession s, Set<NatBackend> now) {
    List<NatBackend> gone = StaleBackends.gone(realizedBackends, now);
    realizedBackends = now;
    if (gone.isEmpty()) {
      return;
    }
    String failure;
    int failed = gone.size();
    try {
      PushResult f = writer.sendPlain(s, StaleBackends.flushes(gone, PipelineProfile.zone(dpid), s.version()))
          .get(30, TimeUnit.SECONDS);
      failure = f.applied() ? null : f.refused().isEmpty() ? f.failure() : f.refused().get(0).reason();
      if (!f.refused().isEmpty()) {
        failed = f.refused().size();
      }
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      failure = e.toString();
    }
    backendFlushes.addAndGet(gone.size());
    metrics.conntrackFlushed(name, gone.size(), failure == null);
    if (failure == null) {
      LOG.info("switch {}: cleared the conntrack entries of {} UDP/SCTP backend(s) no longer in its Services: {}", name,
          gone.size(), gone);
      // Until the switch revalidates its datapath flow cache, a cached flow may still pick the old bucket for a client's
      // next datagram and commit a new entry to the gone backend: clear once more when that has surely happened.
      Executor later = CompletableFuture.delayedExecutor(REFLUSH_AFTER.toMillis(), TimeUnit.MILLISECONDS, serial);
      later.execute(() -> {
        if (session == s && s.isActive()) {
          List<NatBackend> stillGone = new ArrayList<>(gone);
          if (realizedBackends != null) {
            stillGone.removeAll(realizedBackends);
          }
          if (!stillGone.isEmpty()) {
            writer.sendPlain(s, StaleBackends.flushes(stillGone, PipelineProfile.zone(dpid), s.version()));
          }
        }
      });
      return;
    }
    backendFlushFailures.addAndGet(failed);
    lastFlushFailure = failure;
    if (!flushFailureLogged) {
      flushFailureLogged = true;
      LOG.warn("switch {}: it does not clear conntrack entries (NXT_CT_FLUSH, OVS 3.1+): {}; UDP/SCTP clients of "
          + "endpoints that left a Service stay on them until they pause (logged once per switch)", name, failure);
    }
  }

  /** Conntrack flushes of gone backends sent to this switch, those it refused, and its last reason. */
  BackendFlushes backendFlushes() {
    return new BackendFlushes(backendFlushes.get(), backendFlushFailures.get(), lastFlushFailure);
  }

  /** See {@link #backendFlushes()}. */
  record BackendFlushes(long sent, long failed, String lastFailure) { }

  /**
   * The flow ops of a push diffed flow by flow from the last applied one, when that is possible: the switch holds
   * exactly what that push sent ({@link #appliedDesired}), both tables can be diffed structurally
   * ({@link DesiredTables#changedFlowsSince}) and they differ in few flows. Null otherwise (the whole tables are
   * compared).
   */
  private Delta delta(DesiredTables desired, Map<Object, FlowCodec.Entry> actual, OFVersion v) {
    if (appliedDesired == null || actual != installed || v != appliedVersion || v != encodedFor) {
      return null;
    }
    Set<FlowKey> changed = desired.changedFlowsSince(appliedDesired, DELTA_LIMIT);
    if (changed == null) {
      return null;
    }
    Delta d = new Delta();
    Set<Object> left = new java.util.HashSet<>();
    Set<Object> was = new java.util.HashSet<>();
    for (FlowKey k : changed) {
      Flow now = desired.flows().get(k);
      FlowCodec.Entry before = appliedEntries.get(k);
      if (before != null) {
        was.add(before.key());
      }
      if (now != null) {
        FlowCodec.Entry e = codec.encode(now, v);
        d.entries.put(k, e);
        if (d.want.put(e.key(), e) != null) {
          return null; // two changed flows with one wire identity: let the whole diff sort it out
        }
        if (before != null && !before.key().equals(e.key())) {
          left.add(before.key());
        }
      } else if (before != null) {
        d.gone.add(k);
        left.add(before.key());
      }
    }
    for (FlowCodec.Entry e : d.want.values()) {
      FlowCodec.Entry a = actual.get(e.key());
      if (a != null && !was.contains(e.key())) {
        return null; // it takes the wire identity of a flow that did not change: let the whole diff sort it out
      }
      if (a == null || !new Cookie(e.cookie()).sameObject(a.cookie())) {
        d.ops.add(op(e, SwitchOp.Kind.ADD, v));
      } else if (!e.body().equals(a.body())) {
        d.ops.add(op(e, SwitchOp.Kind.MODIFY, v));
      }
    }
    for (Object key : left) {
      FlowCodec.Entry a = actual.get(key);
      if (a != null && !d.want.containsKey(key)) {
        d.ops.add(op(a, SwitchOp.Kind.DELETE, v));
        d.deleted.add(key);
      }
    }
    return d;
  }

  /** A push's flow changes relative to the last applied one, and how the bookkeeping follows once it is applied. */
  private static final class Delta {
    final List<SwitchOp> ops = new ArrayList<>();
    final Map<Object, FlowCodec.Entry> want = new HashMap<>();
    final Map<FlowKey, FlowCodec.Entry> entries = new HashMap<>();
    final List<FlowKey> gone = new ArrayList<>();
    final List<Object> deleted = new ArrayList<>();

    void applyTo(Map<Object, FlowCodec.Entry> installed, Map<FlowKey, FlowCodec.Entry> encodings) {
      deleted.forEach(installed::remove);
      installed.putAll(want);
      gone.forEach(encodings::remove);
      encodings.putAll(entries);
    }
  }

  long deltaPushes() {
    return deltaPushes;
  }

  /** The bundle's messages in order: groups added or changed, then the flow ops (lazily), then groups removed. */
  private static java.util.Iterator<SwitchOp> bundled(GroupDiff.Plan groups, java.util.Iterator<SwitchOp> flows) {
    return Iterators.concat(groups.upserts().iterator(), flows, groups.deletes().iterator());
  }

  /**
   * A change without a bundle ({@link OrderedChanges}): groups added, then what restricts, a barrier, then what
   * permits and the groups no longer used, a barrier. The second phase goes out only if the first applied.
   */
  private PushResult pushOrdered(SwitchSession s, GroupDiff.Plan groups, List<SwitchOp> flowOps,
                                 Map<Object, FlowCodec.Entry> have, OFVersion v) throws Exception {
    OrderedChanges.Phases phases = OrderedChanges.phases(flowOps, have, (e, kind) -> op(e, kind, v));
    List<SwitchOp> first = new ArrayList<>(groups.upserts());
    first.addAll(phases.restrict());
    List<SwitchOp> second = new ArrayList<>(phases.permit());
    second.addAll(groups.deletes());
    PushResult a = writer.push(s, first, false).get(5, TimeUnit.MINUTES);
    if (!a.applied()) {
      return a;
    }
    PushResult b = writer.push(s, second, false).get(5, TimeUnit.MINUTES);
    List<PushResult.Refusal> refused = new ArrayList<>(a.refused());
    refused.addAll(b.refused());
    return new PushResult(b.applied(), false, a.sent().plus(b.sent()), a.elapsed().plus(b.elapsed()), refused,
        b.failure());
  }

  private static int maxOps(GroupDiff.Plan groups, DesiredTables desired, Map<Object, FlowCodec.Entry> actual) {
    return groups.upserts().size() + desired.size() + actual.size() + groups.deletes().size();
  }

  private static Set<Object> refusedSubjects(PushResult r) {
    Set<Object> out = new java.util.HashSet<>();
    for (PushResult.Refusal f : r.refused()) {
      if (f.subject() != null) {
        out.add(f.subject());
      }
    }
    return out;
  }

  /** The desired groups in the form the switch will hold them, reusing the encodings of groups unchanged. */
  private Map<Long, WireGroup> encodeGroups(DesiredTables desired, OFVersion v) {
    if (v != groupsEncodedFor) {
      lastGroups = Map.of();
      lastGroupEntries = Map.of();
      groupsEncodedFor = v;
    }
    Map<Long, Group> gs = desired.groups();
    if (gs == lastGroups) {
      return lastGroupEntries;
    }
    Map<Long, WireGroup> out = new HashMap<>(gs.size() * 4 / 3 + 1);
    for (Group g : gs.values()) {
      Group before = lastGroups.get(g.id());
      WireGroup w = before != null && (before == g || before.equals(g)) ? lastGroupEntries.get(g.id()) : null;
      out.put(g.id(), w != null ? w : GroupCodec.wireGroup(g, v));
    }
    lastGroups = gs;
    lastGroupEntries = out;
    return out;
  }

  /**
   * The difference between desired flows and what the switch holds, produced lazily so that encoding, diffing and
   * sending overlap: first every desired flow (encoded, reusing the encoding of flows unchanged since the last render)
   * that is missing or different, then every owned flow no longer desired. {@link #want} holds the desired flows by
   * wire identity once iteration is done.
   */
  private final class Diff implements java.util.Iterator<SwitchOp> {
    final Map<Object, FlowCodec.Entry> want;
    private final Map<Object, FlowCodec.Entry> have;
    private final OFVersion v;
    private final java.util.Iterator<Map.Entry<FlowKey, Flow>> desiredIt;
    private final Map<FlowKey, FlowCodec.Entry> entries;
    private final Map<FlowKey, Flow> previousFlows;
    private final Map<FlowKey, FlowCodec.Entry> previousEntries;
    private final Map<FlowKey, Flow> desiredFlows;
    private final java.util.Iterator<FlowCodec.Entry> unchangedIt;
    private java.util.Iterator<FlowCodec.Entry> haveIt;
    /** Distinct owned flows of {@code have} that some desired flow has the wire identity of. */
    private int haveOwnedMatched;
    private SwitchOp next;

    Diff(DesiredTables desired, Map<Object, FlowCodec.Entry> have, OFVersion v) {
      if (v != encodedFor) {
        lastFlows = Map.of();
        lastEntries = Map.of();
        encodedFor = v;
      }
      this.have = have;
      this.v = v;
      this.want = new HashMap<>(desired.size() * 4 / 3 + 1);
      this.previousFlows = lastFlows;
      this.previousEntries = lastEntries;
      this.desiredFlows = desired.flows();
      this.desiredIt = desired.flows().entrySet().iterator();
      // the very flows encoded last time (a reconcile's primed render, a retry): take their encodings as they are,
      // without looking each flow up by its renderer key
      boolean unchanged = desiredFlows == previousFlows && previousEntries.size() == desiredFlows.size();
      this.unchangedIt = unchanged ? previousEntries.values().iterator() : null;
      this.entries = unchanged ? previousEntries : new HashMap<>(desired.size() * 4 / 3 + 1);
    }

    /** The next desired flow's encoding, recording it for the next render. */
    private FlowCodec.Entry nextDesired() {
      if (unchangedIt != null) {
        desiredIt.next();
        return unchangedIt.next();
      }
      Map.Entry<FlowKey, Flow> e = desiredIt.next();
      Flow f = e.getValue();
      Flow before = previousFlows.get(e.getKey());
      FlowCodec.Entry d = before == f || f.equals(before) ? previousEntries.get(e.getKey()) : codec.encode(f, v);
      entries.put(e.getKey(), d);
      return d;
    }

    @Override
    public boolean hasNext() {
      while (next == null) {
        if (desiredIt.hasNext()) {
          FlowCodec.Entry d = nextDesired();
          boolean firstWithThisKey = want.put(d.key(), d) == null;
          FlowCodec.Entry a = have.get(d.key());
          if (firstWithThisKey && a != null && Cookie.isSynced(a.cookie())) {
            haveOwnedMatched++;
          }
          if (a == null || !Cookie.isSynced(a.cookie())) {
            next = op(d, SwitchOp.Kind.ADD, v);
          } else if (!new Cookie(d.cookie()).sameObject(a.cookie())) {
            next = op(d, SwitchOp.Kind.ADD, v); // another object's flow: replace it, cookie included
          } else if (!d.body().equals(a.body())) {
            next = op(d, SwitchOp.Kind.MODIFY, v); // same object, new actions: modify keeps the counters
          }
          if (!desiredIt.hasNext()) {
            lastFlows = desiredFlows;
            lastEntries = entries;
            // when every flow the switch holds is an owned one that is still desired, nothing is left to delete
            haveIt = haveOwnedMatched == have.size() ? java.util.Collections.emptyIterator() : have.values().iterator();
          }
        } else if (haveIt != null && haveIt.hasNext()) {
          FlowCodec.Entry a = haveIt.next();
          if (Cookie.isSynced(a.cookie()) && !want.containsKey(a.key())) {
            next = op(a, SwitchOp.Kind.DELETE, v);
          }
        } else {
          if (haveIt == null) { // nothing desired at all
            lastFlows = desiredFlows;
            lastEntries = entries;
            haveIt = have.values().iterator();
            continue;
          }
          return false;
        }
      }
      return true;
    }

    @Override
    public SwitchOp next() {
      if (!hasNext()) {
        throw new java.util.NoSuchElementException();
      }
      SwitchOp op = next;
      next = null;
      return op;
    }
  }

  private SwitchOp op(FlowCodec.Entry e, SwitchOp.Kind kind, OFVersion v) {
    return SwitchOp.flow(kind, e, e.cookie(), (out, xid) -> codec.writeFlowMod(out, e, kind, xid, v));
  }

  /** Encodes every desired flow ahead of the diff (which then reuses the encodings). */
  private void prime(DesiredTables desired, OFVersion v) {
    Map<FlowKey, FlowCodec.Entry> entries = new HashMap<>(desired.size() * 4 / 3 + 1);
    for (Map.Entry<FlowKey, Flow> e : desired.flows().entrySet()) {
      Flow f = e.getValue();
      Flow before = v == encodedFor ? lastFlows.get(e.getKey()) : null;
      FlowCodec.Entry old = before != null && (before == f || f.equals(before)) ? lastEntries.get(e.getKey()) : null;
      entries.put(e.getKey(), old != null ? old : codec.encode(f, v));
    }
    encodedFor = v;
    lastFlows = desired.flows();
    lastEntries = entries;
  }

  private CompletableFuture<Void> requestFlows(SwitchSession s, FlowDump dump) {
    OFFlowStatsRequest req = s.factory().buildFlowStatsRequest()
        .setXid(s.nextXid())
        .setTableId(TableId.ALL)
        .setOutPort(OFPort.ANY)
        .setOutGroup(OFGroup.ANY)
        .setCookie(U64.ZERO)
        .setCookieMask(U64.ZERO)
        .setMatch(s.factory().matchWildcardAll())
        .build();
    return s.rawMultipart(req, dump::part);
  }
}
