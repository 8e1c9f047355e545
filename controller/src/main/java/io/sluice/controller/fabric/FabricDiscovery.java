package io.sluice.controller.fabric;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.logging.LogLimiter;
import io.sluice.controller.service.PacketIn;
import io.sluice.controller.session.SessionListener;
import io.sluice.controller.session.SwitchPort;
import io.sluice.controller.session.SwitchSession;
import io.sluice.model.Host;
import io.sluice.model.Link;
import io.sluice.model.ModelEvent;
import io.sluice.model.PortBinding;
import io.sluice.model.Snapshot;
import io.sluice.renderer.flow.Cookie;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Topology discovery and host tracking, as a {@link SessionListener} in front of the rest of Sluice: it takes the
 * PACKET_INs of the stateless pipeline's base flows (LLDP whole, a copy of ARP and neighbour discovery) out of the
 * stream and passes every other session event to the delegate unchanged. The ARP requests and neighbour solicitations
 * the proxy flows send it instead of flooding them (cookie object {@code 0xfff3}) are tracked as the copies are, then
 * answered out of the port they came in by ({@link ProxyArp}, {@link ProxyNd}) or counted by why not.
 *
 * <p>Each {@code lldpInterval} it sends, on every connected switch it may write to and that carries the stateless
 * pipeline ({@code discovers}), one authenticated LLDP frame ({@link Lldp}) per physical port that is up. An LLDP frame
 * of its own coming back on (B, pB) from (A, pA) is the link A/pA–B/pB; a link not heard for three intervals, a port
 * going down or away, a switch disconnecting, take it down. ARP and neighbour discovery heard on a port without a link,
 * from a MAC that is not a pod's, is a host; one not heard for {@code hostTimeout} is gone.
 *
 * <p>The state (links, hosts, events not yet in the model) is under this object's lock, held briefly by the event loops
 * and the one timer thread; the model is told on the timer thread, in batches, never on an event loop. PACKET_INs are
 * attacker-controlled: each switch may make it read at most {@code perSwitchPerSecond} of them (token bucket), the
 * links and hosts it remembers are bounded, and what it logs is one rate-limited line per link change or host
 * appearing or moving.
 */
public final class FabricDiscovery implements SessionListener, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(FabricDiscovery.class);
  /** The object id of the stateless pipeline's base flows (LLDP to the controller, ARP/ND copies). */
  static final long BASE_OBJECT = io.sluice.renderer.StatelessRenderer.BASE_OBJECT;
  /** The object id of the proxy ARP flows: requests for known addresses, sent here only, to be answered. */
  static final long PROXY_OBJECT = io.sluice.renderer.StatelessRenderer.PROXY_OBJECT;
  private static final long OFPP_MAX = 0xffffff00L;
  private static final int MAX_IPS_PER_HOST = 8;
  private static final long FLUSH_DELAY_MILLIS = 50;

  /** Settings; see {@code sluice run --lldp-interval} and {@code --host-timeout}. */
  public record Options(Duration lldpInterval, Duration hostTimeout, int maxLinks, int maxHosts, int maxHostsPerSwitch,
                        int perSwitchPerSecond) {
    public Options {
      if (lldpInterval.toMillis() < 100 || lldpInterval.toMillis() > 3_600_000) {
        throw new IllegalArgumentException("--lldp-interval: between 100ms and 1h, got " + lldpInterval);
      }
      if (hostTimeout.toMillis() < 1000) {
        throw new IllegalArgumentException("--host-timeout: at least 1s, got " + hostTimeout);
      }
      if (maxLinks < 1 || maxHosts < 1 || maxHostsPerSwitch < 1 || perSwitchPerSecond < 1) {
        throw new IllegalArgumentException("fabric bounds must be positive");
      }
    }

    public static Options defaults() {
      return new Options(Duration.ofSeconds(1), Duration.ofSeconds(300), 4096, 16384, 1024, 200);
    }

    public Options withIntervals(Duration lldp, Duration host) {
      return new Options(lldp, host, maxLinks, maxHosts, maxHostsPerSwitch, perSwitchPerSecond);
    }
  }

  /** Counts for /metrics. */
  public record Stats(int links, int hosts, long lldpSent, long lldpReceived, Map<String, Long> lldpRejected,
                      long packetsDropped, long unreadable, long hostsRefused, long linksRefused,
                      long proxyArpReplies, Map<String, Long> proxyArpUnanswered, long proxyNdReplies,
                      Map<String, Long> proxyNdUnanswered) { }

  /** A link as /api/v1/topology shows it. */
  public record LinkView(String a, long aPort, String b, long bPort, long sinceMillis, long lastHeardMillis) { }

  /** A host as /api/v1/hosts shows it. */
  public record HostView(String mac, List<String> ips, String dpid, long port, long lastSeenMillis) { }

  /** A switch as /api/v1/topology shows it. */
  /** {@code floodsHeld}: in its flood hold-down (nothing flooded until its links are known). */
  public record SwitchView(String dpid, boolean connected, boolean discovering, boolean floodsHeld) { }

  public record Topology(List<SwitchView> switches, List<LinkView> links, List<HostView> hosts) { }

  private static final class LinkState {
    /** Wall clock. */
    final long since;
    /** Ticker. */
    long lastHeard;

    LinkState(long wallNow, long tickNow) {
      since = wallNow;
      lastHeard = tickNow;
    }
  }

  private final SessionListener delegate;
  private final Options options;
  private final Lldp lldp;
  private final LongPredicate discovers;
  private final Supplier<Snapshot> model;
  private final Consumer<List<ModelEvent>> sink;
  private final LongSupplier clock;
  private final LongSupplier ticker;
  private final ScheduledExecutorService timer;
  /**
   * A held switch's probes have this long to come back before its floods are released: an LLDP frame's round trip
   * through a neighbour (packet-out, the link, the neighbour's flow, packet-in) is milliseconds, even on a busy host.
   */
  static final long HOLD_SETTLE_MILLIS = 300;
  private volatile io.sluice.controller.sync.FloodHoldDown holdDown = io.sluice.controller.sync.FloodHoldDown.NONE;
  /** After a switch connects, when every switch probes again (its first flows are pushed within this, typically). */
  static final long FIRST_PROBE_DELAY_MILLIS = 300;
  static final int LOG_LINES_PER_SECOND = 10;
  private final LogLimiter logLimiter = new LogLimiter(Duration.ofSeconds(10));
  /** Under the lock (every line is logged with it held). */
  private final Budget logBudget = new Budget(LOG_LINES_PER_SECOND);
  private long logSuppressed;

  private final Map<Long, SwitchSession> sessions = new ConcurrentHashMap<>();
  /** Per session: LLDP's budget and host tracking's, apart, so a host flooding ARP cannot starve discovery. */
  private final Map<SwitchSession, Budget[]> budgets = new ConcurrentHashMap<>();

  // under this object's lock
  private final Map<Link, LinkState> links = new LinkedHashMap<>();
  private final Map<Link.End, Link> byEnd = new HashMap<>();
  private final Map<String, Host> hosts = new LinkedHashMap<>();
  private final Map<Long, Integer> hostsPerSwitch = new HashMap<>();
  private List<ModelEvent> pending = new ArrayList<>();
  private long podMacsGeneration = -1;
  private Set<String> podMacs = Set.of();

  private final AtomicBoolean flushScheduled = new AtomicBoolean();
  private final AtomicLong lldpSent = new AtomicLong();
  private final AtomicLong lldpReceived = new AtomicLong();
  private final Map<Lldp.Verdict, AtomicLong> lldpRejected = new java.util.EnumMap<>(Lldp.Verdict.class);
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong unreadable = new AtomicLong();
  private final AtomicLong hostsRefused = new AtomicLong();
  private final AtomicLong linksRefused = new AtomicLong();
  private final AtomicLong proxyArpReplies = new AtomicLong();
  private final Map<ProxyArp.Refusal, AtomicLong> proxyArpUnanswered = new java.util.EnumMap<>(ProxyArp.Refusal.class);
  private final AtomicLong proxyNdReplies = new AtomicLong();
  private final Map<ProxyArp.Refusal, AtomicLong> proxyNdUnanswered = new java.util.EnumMap<>(ProxyArp.Refusal.class);
  /** The addresses proxy ARP answers for, with the model generation they were computed from. */
  private volatile ProxyTargets proxyTargets = new ProxyTargets(-1, Map.of(), Map.of());

  private record ProxyTargets(long generation, Map<Long, String> ipv4, Map<java.math.BigInteger, String> ipv6) { }

  /**
   * @param discovers whether Sluice sends LLDP on this switch: it writes to it (not a SLAVE, not a standby) and it
   *     carries the stateless pipeline (which sends LLDP, ARP and ND to the controller)
   * @param model the current model (pod MACs are not hosts)
   * @param sink where model events go, in batches, on this object's timer thread
   * @param clock wall-clock milliseconds (hosts' last seen, links' since: shown and in the model)
   * @param ticker monotonic milliseconds (LLDP time stamps, link aging: a wall-clock step must not drop every link)
   */
  public FabricDiscovery(SessionListener delegate, Options options, Lldp lldp, LongPredicate discovers,
                         Supplier<Snapshot> model, Consumer<List<ModelEvent>> sink, LongSupplier clock,
                         LongSupplier ticker) {
    this.delegate = delegate;
    this.options = options;
    this.lldp = lldp;
    this.discovers = discovers;
    this.model = model;
    this.sink = sink;
    this.clock = clock;
    this.ticker = ticker;
    for (ProxyArp.Refusal r : ProxyArp.Refusal.values()) {
      proxyArpUnanswered.put(r, new AtomicLong());
      proxyNdUnanswered.put(r, new AtomicLong());
    }
    for (Lldp.Verdict v : Lldp.Verdict.values()) {
      if (v != Lldp.Verdict.OK) {
        lldpRejected.put(v, new AtomicLong());
      }
    }
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sluice-fabric");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Takes part in the flood hold-down: a held switch whose base flows are in is probed at once, and released once its
   * probes had {@link #HOLD_SETTLE_MILLIS} to come back (the links they found in the model first).
   */
  public void holdDown(io.sluice.controller.sync.FloodHoldDown h) {
    holdDown = h;
    h.onBaseFlows((dpid, hold) -> {
      try {
        timer.execute(() -> {
          SwitchSession s = sessions.get(dpid);
          if (s != null) {
            probe(s);
          }
        });
        timer.schedule(() -> {
          flush();
          h.release(dpid, hold);
        }, HOLD_SETTLE_MILLIS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // closing
      }
    });
  }

  /** Starts the LLDP rounds and the aging. */
  public FabricDiscovery start() {
    long ms = options.lldpInterval().toMillis();
    timer.scheduleAtFixedRate(this::tick, ms, ms, TimeUnit.MILLISECONDS);
    return this;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }

  // ---------------------------------------------------------------- session events

  @Override
  public void active(SwitchSession session) {
    sessions.put(session.dpid().getLong(), session);
    delegate.active(session);
    // a switch that just connected probes its ports soon rather than at the next round: its neighbours that are
    // already connected have the flows that send LLDP here, and one direction of a link is enough to know it
    try {
      timer.schedule(() -> probe(session), FIRST_PROBE_DELAY_MILLIS, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /** LLDP out of every port of one switch, if it discovers. */
  private void probe(SwitchSession s) {
    if (s.isActive() && discovers.test(s.dpid().getLong())) {
      long now = ticker.getAsLong();
      s.execute(() -> sendLldp(s, List.copyOf(s.ports()), now));
    }
  }

  @Override
  public void portChanged(SwitchSession session, SwitchPort port, boolean deleted) {
    long dpid = session.dpid().getLong();
    if (deleted || !port.up()) {
      portDown(dpid, port.portNo(), deleted);
    } else if (port.portNo() < OFPP_MAX && session.isActive() && discovers.test(dpid)) {
      session.execute(() -> sendLldp(session, List.of(port), ticker.getAsLong())); // a port up: ask at once
    }
    delegate.portChanged(session, port, deleted);
  }

  @Override
  public void closed(SwitchSession session, String reason) {
    budgets.remove(session);
    if (session.dpid() != null) {
      long dpid = session.dpid().getLong();
      if (sessions.remove(dpid, session)) {
        holdDown.forget(dpid);
        switchGone(dpid);
      }
    }
    delegate.closed(session, reason);
  }

  /** A port went down or away: its link goes, and the hosts on it. */
  void portDown(long dpid, long port, boolean deleted) {
    synchronized (this) {
      Link l = byEnd.get(new Link.End(dpid, port));
      if (l != null) {
        linkDown(l, deleted ? "port deleted" : "port down");
      }
      for (Host h : List.copyOf(hosts.values())) {
        if (h.dpid() == dpid && h.port() == port) {
          hostGone(h, deleted ? "port deleted" : "port down");
        }
      }
    }
    scheduleFlush();
  }

  /** A switch disconnected: its links go (its hosts age out, or come back with it). */
  void switchGone(long dpid) {
    synchronized (this) {
      for (Link l : List.copyOf(links.keySet())) {
        if (l.on(dpid) != null) {
          linkDown(l, "switch disconnected");
        }
      }
    }
    scheduleFlush();
  }

  @Override
  public void packetIn(SwitchSession session, ByteBuf frame) {
    int at = frame.readerIndex();
    if (frame.readableBytes() < 24) {
      delegate.packetIn(session, frame);
      return;
    }
    Cookie cookie = new Cookie(frame.getLong(at + 16));
    if (!cookie.owned() || cookie.category() != Cookie.Category.BASE
        || cookie.objectId() != BASE_OBJECT && cookie.objectId() != PROXY_OBJECT) {
      delegate.packetIn(session, frame);
      return;
    }
    Budget[] b = budgets.computeIfAbsent(session, s -> new Budget[] {new Budget(options.perSwitchPerSecond()),
        new Budget(options.perSwitchPerSecond()), new Budget(2 * options.perSwitchPerSecond())});
    if (!b[2].take(System.nanoTime())) { // before any parsing: the work one switch can cause is bounded
      dropped.incrementAndGet();
      return;
    }
    PacketIn in;
    try {
      in = PacketIn.read(frame);
    } catch (IllegalArgumentException e) {
      unreadable.incrementAndGet();
      return;
    }
    if (in.inPort() >= OFPP_MAX || session.dpid() == null) {
      unreadable.incrementAndGet();
      return;
    }
    long dpid = session.dpid().getLong();
    byte[] d = in.data();
    boolean isLldp = d.length >= 14 && ((d[12] & 0xff) << 8 | d[13] & 0xff) == Lldp.ETH_TYPE;
    if (!b[isLldp ? 0 : 1].take(System.nanoTime())) {
      dropped.incrementAndGet();
      return;
    }
    if (isLldp) {
      lldpIn(dpid, in.inPort(), d);
    } else {
      HostPackets.Sighting s = HostPackets.read(d);
      if (s == null) {
        unreadable.incrementAndGet();
      } else {
        hostIn(dpid, in.inPort(), s);
      }
      if (cookie.objectId() == PROXY_OBJECT) {
        proxyArp(session, in.inPort(), d);
      }
    }
  }

  // ---------------------------------------------------------------- proxy ARP and ND

  /**
   * A request the switch sent here instead of flooding it (an ARP request, or an IPv6 neighbour solicitation): the
   * answer for its target goes back out of the port it came in by, or it is counted by why not (and dropped: the asker
   * asks again). Nothing is logged per packet.
   */
  private void proxyArp(SwitchSession session, long port, byte[] request) {
    ProxyTargets t = proxyTargets();
    boolean nd = isIpv6(request);
    ProxyArp.Answer a = nd ? ProxyNd.answer(request, t.ipv6()) : ProxyArp.answer(request, t.ipv4());
    if (a.frame() == null) {
      (nd ? proxyNdUnanswered : proxyArpUnanswered).get(a.refusal()).incrementAndGet();
      return;
    }
    if (!session.isActive() || !session.channel().isWritable()) {
      dropped.incrementAndGet(); // behind on writes: the asker asks again
      return;
    }
    session.channel().writeAndFlush(session.packetOut(port, a.frame()), session.channel().voidPromise());
    (nd ? proxyNdReplies : proxyArpReplies).incrementAndGet();
  }

  /** Whether the frame's ethertype (after one tag) is IPv6. */
  private static boolean isIpv6(byte[] d) {
    int tag = d.length >= 18 ? (d[12] & 0xff) << 8 | d[13] & 0xff : 0;
    int off = tag == 0x8100 || tag == 0x88a8 ? 16 : 12;
    return d.length >= off + 2 && ((d[off] & 0xff) << 8 | d[off + 1] & 0xff) == ProxyNd.ETH_IPV6;
  }

  /** The renderer's proxy ARP and ND addresses for the current model (computed once per generation). */
  private ProxyTargets proxyTargets() {
    Snapshot snap = model.get();
    ProxyTargets t = proxyTargets;
    if (snap == null) {
      return new ProxyTargets(-1, Map.of(), Map.of());
    }
    if (t.generation() != snap.generation()) {
      t = new ProxyTargets(snap.generation(), io.sluice.renderer.fabric.NeighbourProxy.ipv4Targets(snap),
          io.sluice.renderer.fabric.NeighbourProxy.ipv6Targets(snap));
      proxyTargets = t;
    }
    return t;
  }

  // ---------------------------------------------------------------- LLDP

  private void lldpIn(long dpid, long port, byte[] frame) {
    long now = ticker.getAsLong();
    Lldp.Heard h = lldp.decode(frame, now, maxAgeMillis());
    if (h.verdict() != Lldp.Verdict.OK) {
      lldpRejected.get(h.verdict()).incrementAndGet();
      return;
    }
    if (h.dpid() == dpid && h.port() == port || !sessions.containsKey(h.dpid())) {
      lldpRejected.get(Lldp.Verdict.FOREIGN).incrementAndGet(); // a port looped onto itself, or a switch not here
      return;
    }
    lldpReceived.incrementAndGet();
    linkHeard(Link.of(h.dpid(), h.port(), dpid, port), now);
  }

  /** An authentic LLDP frame of ours crossed {@code l}: it is up (again), or still up. */
  void linkHeard(Link l, long now) {
    synchronized (this) {
      LinkState st = links.get(l);
      if (st != null) {
        st.lastHeard = now;
        return;
      }
      if (links.size() >= options.maxLinks()) {
        linksRefused.incrementAndGet();
        return;
      }
      for (Link.End e : List.of(l.a(), l.b())) { // a port has one link: a new neighbour replaces the old one
        Link old = byEnd.get(e);
        if (old != null) {
          linkDown(old, "replaced by " + l);
        }
      }
      links.put(l, new LinkState(clock.getAsLong(), now));
      byEnd.put(l.a(), l);
      byEnd.put(l.b(), l);
      pending.add(new ModelEvent.LinkUp(l));
      log("up " + l, "link up " + l);
      for (Host x : List.copyOf(hosts.values())) { // hosts seen there before the link was: behind another switch
        Link.End e = new Link.End(x.dpid(), x.port());
        if (e.equals(l.a()) || e.equals(l.b())) {
          hostGone(x, "its port carries a link");
        }
      }
    }
    scheduleFlush();
  }

  private long maxAgeMillis() {
    return Math.max(2000, 3 * options.lldpInterval().toMillis());
  }

  /** Under the lock. */
  private void linkDown(Link l, String why) {
    if (links.remove(l) == null) {
      return;
    }
    byEnd.remove(l.a(), l);
    byEnd.remove(l.b(), l);
    pending.add(new ModelEvent.LinkDown(l));
    log("down " + l, "link down " + l + " (" + why + ")");
  }

  private void sendLldp(SwitchSession s, java.util.Collection<SwitchPort> ports, long now) {
    if (!s.isActive() || !s.channel().isWritable()) {
      return; // behind on writes: this round is skipped, the next one asks again
    }
    long dpid = s.dpid().getLong();
    int ttl = (int) Math.max(1, (maxAgeMillis() + 999) / 1000);
    int n = 0;
    for (SwitchPort p : ports) {
      if (p.portNo() >= OFPP_MAX || p.portNo() == 0 || !p.up()) {
        continue;
      }
      byte[] frame = lldp.encode(dpid, p.portNo(), macBytes(p.hwAddr()), now, ttl);
      s.channel().write(s.packetOut(p.portNo(), frame), s.channel().voidPromise());
      n++;
    }
    if (n > 0) {
      s.channel().flush();
      lldpSent.addAndGet(n);
    }
  }

  private static byte[] macBytes(String mac) {
    byte[] b = new byte[6];
    String[] parts = mac == null ? new String[0] : mac.split(":");
    if (parts.length == 6) {
      try {
        for (int i = 0; i < 6; i++) {
          b[i] = (byte) Integer.parseInt(parts[i], 16);
        }
        if ((b[0] & 1) == 0) {
          return b;
        }
      } catch (NumberFormatException e) {
        // fall through to a locally administered address
      }
    }
    return new byte[] {0x02, 0, 0, 0, 0, 1};
  }


  // ---------------------------------------------------------------- hosts

  void hostIn(long dpid, long port, HostPackets.Sighting s) {
    long now = clock.getAsLong();
    Snapshot snap = model.get();
    synchronized (this) {
      if (byEnd.containsKey(new Link.End(dpid, port))) {
        return; // behind another switch: that switch's edge port says where it is
      }
      if (podMacs(snap).contains(s.mac())) {
        return;
      }
      Host old = hosts.get(s.mac());
      List<String> ips;
      if (old != null && old.dpid() == dpid && old.port() == port) {
        if (old.ips().contains(s.ip())) {
          hosts.put(s.mac(), new Host(s.mac(), old.ips(), dpid, port, now)); // heard again: no model change
          return;
        }
        ips = new ArrayList<>(old.ips());
        ips.add(s.ip());
        while (ips.size() > MAX_IPS_PER_HOST) {
          ips.remove(0);
        }
      } else {
        if (old == null && (hosts.size() >= options.maxHosts()
            || hostsPerSwitch.getOrDefault(dpid, 0) >= options.maxHostsPerSwitch())) {
          hostsRefused.incrementAndGet();
          return;
        }
        if (old != null && hostsPerSwitch.getOrDefault(dpid, 0) >= options.maxHostsPerSwitch()
            && old.dpid() != dpid) {
          hostsRefused.incrementAndGet();
          return;
        }
        ips = List.of(s.ip());
      }
      Host h = new Host(s.mac(), ips, dpid, port, now);
      if (old != null) {
        hostsPerSwitch.merge(old.dpid(), -1, FabricDiscovery::sumOrNone);
      }
      hostsPerSwitch.merge(dpid, 1, Integer::sum);
      hosts.put(s.mac(), h);
      pending.add(new ModelEvent.HostUpserted(h));
      if (old == null || old.dpid() != dpid || old.port() != port) {
        log("host " + s.mac(), old == null ? "host " + s.mac() + " (" + s.ip() + ") on " + new Link.End(dpid, port)
            : "host " + s.mac() + " moved from " + new Link.End(old.dpid(), old.port()) + " to " + new Link.End(dpid, port));
      }
    }
    scheduleFlush();
  }

  /** A count's new value, or null (the entry goes) at zero: switches that had hosts leave no entries behind. */
  private static Integer sumOrNone(Integer a, Integer b) {
    int n = a + b;
    return n == 0 ? null : n;
  }

  /** Under the lock. */
  private void hostGone(Host h, String why) {
    if (hosts.remove(h.mac()) == null) {
      return;
    }
    hostsPerSwitch.merge(h.dpid(), -1, FabricDiscovery::sumOrNone);
    pending.add(new ModelEvent.HostDeleted(h.mac()));
    log("gone " + h.mac(), "host " + h.mac() + " gone from " + new Link.End(h.dpid(), h.port()) + " (" + why + ")");
  }

  /** Under the lock. */
  private Set<String> podMacs(Snapshot snap) {
    if (snap != null && snap.generation() != podMacsGeneration) {
      Set<String> macs = new HashSet<>();
      for (PortBinding b : snap.bindings().values()) {
        if (b.mac() != null) {
          macs.add(b.mac().toLowerCase(Locale.ROOT));
        }
      }
      podMacs = macs;
      podMacsGeneration = snap.generation();
    }
    return podMacs;
  }

  // ---------------------------------------------------------------- timer

  /** One round: LLDP out of every discovering switch, links and hosts aged, the model told. */
  void tick() {
    try {
      long now = ticker.getAsLong();
      sessions.values().forEach(this::probe);
      expire(now, clock.getAsLong());
      flush();
    } catch (RuntimeException e) {
      LOG.warn("fabric discovery round failed: {}", e.toString());
    }
  }

  /** Takes down links not heard for three intervals and hosts not heard for the host timeout. */
  synchronized void expire(long tickNow, long wallNow) {
    long linkAge = 3 * options.lldpInterval().toMillis();
    for (Map.Entry<Link, LinkState> e : List.copyOf(links.entrySet())) {
      if (tickNow - e.getValue().lastHeard > linkAge) {
        linkDown(e.getKey(), "LLDP not heard for " + linkAge + " ms");
      }
    }
    long hostAge = options.hostTimeout().toMillis();
    for (Host h : List.copyOf(hosts.values())) {
      if (wallNow - h.lastSeenMillis() > hostAge) {
        hostGone(h, "not heard for " + options.hostTimeout().toSeconds() + " s");
      }
    }
  }

  private void scheduleFlush() {
    if (flushScheduled.compareAndSet(false, true)) {
      try {
        timer.schedule(this::flush, FLUSH_DELAY_MILLIS, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        flushScheduled.set(false); // closed
      }
    }
  }

  /** Hands the events gathered since the last flush to the model, as one batch. */
  void flush() {
    flushScheduled.set(false);
    List<ModelEvent> batch;
    synchronized (this) {
      if (pending.isEmpty()) {
        return;
      }
      batch = pending;
      pending = new ArrayList<>();
    }
    try {
      sink.accept(batch);
    } catch (RuntimeException e) {
      LOG.warn("fabric: the model refused {} topology events: {}", batch.size(), e.toString());
    }
  }

  /**
   * One line per link or host change, at most one per link or MAC per 10 s (a flapping link or a host hopping between
   * ports) and at most {@link #LOG_LINES_PER_SECOND} a second in all (a flood of new MACs); the rest is counted and
   * said on the next line that gets through.
   */
  private void log(String subject, String line) {
    if (logLimiter.admit(subject) < 0 || !logBudget.take(System.nanoTime())) {
      logSuppressed++; // counted here only: the limiter's own count of this subject would count it twice
      return;
    }
    long n = logSuppressed;
    logSuppressed = 0;
    LOG.info("fabric: {}{}", line, n > 0 ? " (" + n + " fabric line(s) suppressed since the last)" : "");
  }

  // ---------------------------------------------------------------- views

  public synchronized Topology topology() {
    List<SwitchView> sw = new ArrayList<>();
    sessions.keySet().stream().sorted(Long::compareUnsigned).forEach(d -> sw.add(
        new SwitchView(dpidText(d), true, discovers.test(d), holdDown.held(d))));
    List<LinkView> ls = new ArrayList<>();
    long wallNow = clock.getAsLong();
    long tickNow = ticker.getAsLong();
    links.forEach((l, st) -> ls.add(new LinkView(dpidText(l.a().dpid()), l.a().port(), dpidText(l.b().dpid()),
        l.b().port(), st.since, wallNow - (tickNow - st.lastHeard))));
    return new Topology(sw, ls, hosts());
  }

  public synchronized List<HostView> hosts() {
    return hosts.values().stream().map(h -> new HostView(h.mac(), h.ips(), dpidText(h.dpid()), h.port(),
        h.lastSeenMillis())).toList();
  }

  public Stats stats() {
    Map<String, Long> rejected = new LinkedHashMap<>();
    lldpRejected.forEach((v, n) -> rejected.put(v.name().toLowerCase(Locale.ROOT), n.get()));
    Map<String, Long> unanswered = new LinkedHashMap<>();
    proxyArpUnanswered.forEach((r, n) -> unanswered.put(r.label(), n.get()));
    Map<String, Long> ndUnanswered = new LinkedHashMap<>();
    proxyNdUnanswered.forEach((r, n) -> ndUnanswered.put(r.label(), n.get()));
    int l;
    int h;
    synchronized (this) {
      l = links.size();
      h = hosts.size();
    }
    return new Stats(l, h, lldpSent.get(), lldpReceived.get(), rejected, dropped.get(), unreadable.get(),
        hostsRefused.get(), linksRefused.get(), proxyArpReplies.get(), unanswered, proxyNdReplies.get(), ndUnanswered);
  }

  private static String dpidText(long dpid) {
    return org.projectfloodlight.openflow.types.DatapathId.of(dpid).toString();
  }

  /** A token bucket; each is touched by one thread at a time (its session's event loop, or under the lock). */
  private static final class Budget {
    private final int rate;
    private double tokens;
    private long last = System.nanoTime();

    Budget(int rate) {
      this.rate = rate;
      this.tokens = rate;
    }

    boolean take(long now) {
      tokens = Math.min(rate, tokens + (now - last) / 1e9 * rate);
      last = now;
      if (tokens < 1) {
        return false;
      }
      tokens -= 1;
      return true;
    }
  }
}
