package io.sluice.controller.trace;

import io.netty.buffer.ByteBuf;
import io.sluice.controller.session.SwitchError;
import io.sluice.controller.session.SwitchSession;
import io.sluice.controller.wire.FlowStatsParser;
import io.sluice.model.Protocol;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.projectfloodlight.openflow.protocol.OFPacketOut;
import org.projectfloodlight.openflow.protocol.OFPortStatsReply;
import org.projectfloodlight.openflow.protocol.OFVersion;
import org.projectfloodlight.openflow.protocol.match.MatchField;
import org.projectfloodlight.openflow.types.OFBufferId;
import org.projectfloodlight.openflow.types.OFGroup;
import org.projectfloodlight.openflow.types.OFPort;
import org.projectfloodlight.openflow.types.TableId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Traces a connection where {@code ovs-appctl ofproto/trace} cannot be run (a remote or hardware switch), over the
 * OpenFlow session the controller holds: reads every flow's counters of the source's switch (and the destination's,
 * when another switch connected here holds it) and the destination port's transmit counter, injects k probes
 * ({@link ProbePackets}) with PACKET_OUT as if the source's port had received them ({@code in_port} = that port,
 * action {@code output:TABLE}: the whole pipeline from table 0), reads the counters again, and keeps the flows that
 * grew by k or more: the probes' path ({@link ProbePath}). Where the path ends, and whether the destination's port sent
 * k more packets, is the switch's verdict.
 *
 * <p>Each probe is a new connection: the probes differ in their source port. On the ovs pipeline, the first probe an
 * allowed connection sends is committed to conntrack (table 50); later probes with the same addresses and ports would
 * be {@code +est}, skip the policy tables (table 20 sends established packets straight on), and the rule tables would
 * count 1 where the others count k. A denied probe is never committed, so the same ports would repeat the first
 * packet's path, but the verdict is what is being asked: only distinct source ports make every probe take the path of
 * a connection's first packet whatever the verdict. (One probe per step would do as well for the policy tables, but
 * one packet cannot be told from background traffic; k distinct connections can, by "exactly k".)
 *
 * <p>Counters of the passes after a conntrack recirculation are, on OVS, credited when the datapath flow that carried
 * the packet is next revalidated (every 500 ms by default), not at once: the counters are read again until two reads
 * at least {@link #SETTLE_STEP} apart give the same path, after {@link #SETTLE_FIRST} at least.
 *
 * <p>Bounded: one trace at a time in the whole controller (so the status API keeps a thread for everything else, and
 * two traces never count each other's probes), at most {@link #MAX_PROBES} probes, and {@link #TIMEOUT} in all.
 * The probes are real packets: an allowed one reaches the destination pod, which may answer (a SYN-ACK or RST, an ICMP
 * port unreachable), and a denied one is logged by the audit log like any denied connection.
 */
public final class PacketOutTracer {
  private static final Logger LOG = LoggerFactory.getLogger(PacketOutTracer.class);

  public static final int DEFAULT_PROBES = 5;
  public static final int MAX_PROBES = 20;
  public static final Duration TIMEOUT = Duration.ofSeconds(15);
  static final Duration SETTLE_FIRST = Duration.ofMillis(1000);
  static final Duration SETTLE_STEP = Duration.ofMillis(700);

  /** The switches a trace may use: the live session of a datapath id, and whether this controller writes to it. */
  public interface Switches {
    SwitchSession session(long dpid);

    /** Null when this controller may send to the switch, else why not (a standby, a slave role). */
    String mayNotWrite(long dpid);
  }

  /** A trace refused or failed: the HTTP status to answer and a message naming the switch and what to do. */
  public static final class Refused extends RuntimeException {
    private final int status;

    public Refused(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /**
   * What to trace. {@code dstDpid}, {@code dstPort}: the destination's switch and OpenFlow port, or null when it is
   * not a pod on a switch Sluice knows (then only the source's switch is traced: its egress).
   */
  public record Request(long srcDpid, long inPort, String srcMac, String srcIp, Long dstDpid, Long dstPort,
                        String dstMac, String dstIp, Protocol protocol, int port, int probes) { }

  private final Switches switches;
  private final Semaphore one = new Semaphore(1);
  private final SecureRandom random = new SecureRandom();
  private volatile String running;

  public PacketOutTracer(Switches switches) {
    this.switches = switches;
  }

  /** Runs one trace; the answer as the status API serves it. */
  public Map<String, Object> trace(Request r) {
    if (r.probes() < 1 || r.probes() > MAX_PROBES) {
      throw new Refused(400, "probes: 1-" + MAX_PROBES + " (default " + DEFAULT_PROBES + "), got " + r.probes());
    }
    String src = name(r.srcDpid());
    if (!one.tryAcquire()) {
      String other = running;
      throw new Refused(409, "another packet-out trace is running (" + (other == null ? "starting" : other)
          + "); one at a time: try again in a few seconds");
    }
    try {
      running = "switch " + src;
      return run(r, src);
    } finally {
      running = null;
      one.release();
    }
  }

  private Map<String, Object> run(Request r, String src) {
    long t0 = System.nanoTime();
    long deadline = t0 + TIMEOUT.toNanos();
    SwitchSession s = live(r.srcDpid(), "the source's");
    String why = switches.mayNotWrite(r.srcDpid());
    if (why != null) {
      throw new Refused(503, "switch " + src + ": this controller may not send it packets (" + why + "); a switch "
          + "refuses PACKET_OUT from a controller in the slave role: ask the status API of the replica that leads it");
    }
    List<String> notes = new ArrayList<>();
    SwitchSession d = null;
    if (r.dstDpid() != null && r.dstDpid() != r.srcDpid()) {
      d = switches.session(r.dstDpid());
      if (d == null || !d.isActive()) {
        notes.add("the destination's switch " + name(r.dstDpid()) + " is not connected to this controller: only the "
            + "source's switch was traced (its egress)");
        d = null;
      }
    }
    List<SwitchSession> traced = d == null ? List.of(s) : List.of(s, d);
    SwitchSession dstSwitch = r.dstDpid() == null ? null : r.dstDpid() == r.srcDpid() ? s : d;
    int k = r.probes();
    int marker = 1 + random.nextInt(0xfffe);
    int base = ProbePackets.FIRST_PORT + random.nextInt(65536 - ProbePackets.FIRST_PORT - k + 1);
    List<byte[]> frames = new ArrayList<>();
    try {
      for (int i = 0; i < k; i++) {
        frames.add(ProbePackets.frame(r.protocol(), r.srcMac(), r.dstMac(), r.srcIp(), r.dstIp(), base + i, r.port(),
            marker));
      }
    } catch (IllegalArgumentException e) {
      throw new Refused(400, e.getMessage());
    }
    ProbeMatch atSource = new ProbeMatch(r.protocol(), r.srcIp(), r.dstIp(), r.port(), r.inPort());
    List<ProbeMatch> fits = traced.stream().map(t -> t == s ? atSource : atSource.elsewhere()).toList();
    List<List<ProbePath.Flow>> before = new ArrayList<>();
    for (int i = 0; i < traced.size(); i++) {
      before.add(flows(traced.get(i), fits.get(i), deadline));
    }
    Long txBefore = dstSwitch == null ? null : txPackets(dstSwitch, r.dstPort(), deadline);
    inject(s, r.inPort(), frames, deadline);
    sleepUntil(Math.min(deadline, System.nanoTime() + SETTLE_FIRST.toNanos()));
    List<ProbePath.Path> paths = null;
    Long txAfter = null;
    boolean settled = false;
    while (true) {
      List<ProbePath.Path> now = new ArrayList<>();
      for (int i = 0; i < traced.size(); i++) {
        now.add(ProbePath.of(before.get(i), flows(traced.get(i), fits.get(i), deadline), k));
      }
      Long tx = dstSwitch == null ? null : txPackets(dstSwitch, r.dstPort(), deadline);
      if (paths != null && same(paths, now) && reached(txAfter, txBefore, k) == reached(tx, txBefore, k)) {
        paths = now;
        txAfter = tx;
        settled = true;
        break;
      }
      paths = now;
      txAfter = tx;
      if (System.nanoTime() + SETTLE_STEP.toNanos() >= deadline) {
        break;
      }
      sleepUntil(System.nanoTime() + SETTLE_STEP.toNanos());
    }
    if (!settled) {
      notes.add("the counters were still changing after " + TIMEOUT.toSeconds() + " s (busy switches, or traffic "
          + "like the probes): the path is the last one read; trace again");
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("method", "packet-out");
    Map<String, Object> probes = new LinkedHashMap<>();
    probes.put("count", k);
    probes.put("protocol", r.protocol().name());
    probes.put("sourcePorts", base + "-" + (base + k - 1));
    probes.put(r.srcIp().indexOf(':') >= 0 ? "flowLabel" : "ipId", "0x" + Integer.toHexString(marker));
    probes.put("inPort", r.inPort());
    out.put("probes", probes);
    List<Object> sw = new ArrayList<>();
    for (int i = 0; i < traced.size(); i++) {
      Map<String, Object> m = new LinkedHashMap<>();
      SwitchSession t = traced.get(i);
      m.put("datapathId", t.name());
      m.put("role", t == s && t == dstSwitch ? "source and destination" : t == s ? "source" : "destination");
      m.put("steps", paths.get(i).steps().stream().map(PacketOutTracer::step).toList());
      ProbePath.Step end = paths.get(i).end();
      if (end != null) {
        m.put("end", step(end));
      }
      m.put("notes", paths.get(i).notes());
      sw.add(m);
    }
    out.put("switches", sw);
    if (dstSwitch != null) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("datapathId", dstSwitch.name());
      p.put("ofport", r.dstPort());
      p.put("txBefore", txBefore);
      p.put("txAfter", txAfter);
      p.put("grew", txAfter - txBefore);
      out.put("destinationPort", p);
    }
    out.put("verdict", verdict(paths, dstSwitch == null ? -1 : traced.indexOf(dstSwitch), txBefore, txAfter, k));
    out.put("notes", notes);
    out.put("elapsedMillis", (System.nanoTime() - t0) / 1_000_000);
    LOG.info("packet-out trace on switch {}: {} {} probes {} -> {}:{}, source ports {}-{}, {} ms", src, k,
        r.protocol(), r.srcIp(), r.dstIp(), r.port(), base, base + k - 1, (System.nanoTime() - t0) / 1_000_000);
    return out;
  }

  /**
   * The switch's verdict. With the destination's port on a switch traced here: allowed when its transmit counter grew
   * by k or more and the probes' path on that switch was not cut short by a flow that sends nothing on; otherwise
   * (egress only) allowed when the source's switch output the probes.
   */
  static Map<String, Object> verdict(List<ProbePath.Path> paths, int dstIndex, Long txBefore, Long txAfter, int k) {
    Map<String, Object> v = new LinkedHashMap<>();
    ProbePath.Step end = null;
    for (ProbePath.Path p : paths) {
      if (p.end() != null) {
        end = p.end();
        break;
      }
    }
    boolean allowed;
    if (dstIndex >= 0) {
      long grew = txAfter - txBefore;
      allowed = grew >= k && end == null;
      v.put("scope", "destination");
      v.put("how", allowed ? "the destination's port sent " + grew + " more packet(s) (" + k + " probes" + (grew > k
          ? "; the rest other traffic" : "") + ")" : end != null ? "ended in table " + end.table() + (grew >= k
          ? " (the destination's port sent " + grew + " packet(s) meanwhile: other traffic)" : "")
          : "the destination's port sent " + grew + " packet(s), fewer than the " + k + " probes");
    } else {
      allowed = end == null && paths.get(0).outputs();
      v.put("scope", "egress");
      v.put("how", allowed ? "output by the source's switch" : end != null ? "ended in table " + end.table()
          : "not output by the source's switch");
    }
    v.put("allowed", allowed);
    return v;
  }

  private static boolean reached(Long tx, Long before, int k) {
    return tx != null && tx - before >= k;
  }

  /** Two reads give the same path: the same flows per table (their growth aside: background traffic moves it). */
  private static boolean same(List<ProbePath.Path> a, List<ProbePath.Path> b) {
    for (int i = 0; i < a.size(); i++) {
      List<ProbePath.Step> x = a.get(i).steps();
      List<ProbePath.Step> y = b.get(i).steps();
      if (x.size() != y.size()) {
        return false;
      }
      for (int j = 0; j < x.size(); j++) {
        ProbePath.Step p = x.get(j);
        ProbePath.Step q = y.get(j);
        if (p.table() != q.table() || p.priority() != q.priority() || p.cookie() != q.cookie()
            || !Objects.equals(p.match(), q.match()) || p.exact() != q.exact()) {
          return false;
        }
      }
    }
    return true;
  }

  private static Map<String, Object> step(ProbePath.Step s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("table", s.table());
    m.put("priority", s.priority());
    m.put("cookie", "0x" + Long.toHexString(s.cookie()));
    m.put("match", s.match());
    m.put("grew", s.grew());
    m.put("exact", s.exact());
    m.put("ambiguous", s.ambiguous());
    m.put("forwards", s.forwards());
    m.put("outputs", s.outputs());
    return m;
  }

  private SwitchSession live(long dpid, String whose) {
    SwitchSession s = switches.session(dpid);
    if (s == null || !s.isActive()) {
      throw new Refused(503, whose + " switch " + name(dpid) + " is not connected to this controller: a packet-out "
          + "trace needs the controller that holds its OpenFlow session (see /api/v1/switches); or trace with "
          + "--method ovs-appctl on its node");
    }
    return s;
  }

  /** Sends the probes as PACKET_OUTs (in_port = the source's port, output:TABLE), then a barrier. */
  private static void inject(SwitchSession s, long inPort, List<byte[]> frames, long deadline) {
    long first = s.reserveXids(frames.size());
    List<SwitchError> refused = new java.util.concurrent.CopyOnWriteArrayList<>();
    CompletableFuture<Runnable> registered = new CompletableFuture<>();
    s.execute(() -> registered.complete(s.onErrors(first, first + frames.size() - 1, refused::add)));
    Runnable unregister = await(registered, deadline, s, "register for errors");
    try {
      var f = s.factory();
      for (int i = 0; i < frames.size(); i++) {
        var b = f.buildPacketOut().setXid(first + i).setBufferId(OFBufferId.NO_BUFFER)
            .setActions(List.of(f.actions().output(OFPort.TABLE, 0))).setData(frames.get(i));
        if (s.version().compareTo(OFVersion.OF_15) >= 0) {
          b.setMatch(f.buildMatch().setExact(MatchField.IN_PORT, OFPort.of((int) inPort)).build());
        } else {
          b.setInPort(OFPort.of((int) inPort));
        }
        OFPacketOut po = b.build();
        s.send(po);
      }
      await(s.barrier(), deadline, s, "barrier after the probes");
    } finally {
      s.execute(unregister);
    }
    if (!refused.isEmpty()) {
      throw new Refused(502, "switch " + s.name() + " refused the probes' PACKET_OUT: " + refused.get(0).description()
          + " (a switch without output:TABLE in packet-out, or a port it does not have: trace with --method "
          + "ovs-appctl on its node)");
    }
  }

  /** Every flow of the switch with its packet counter and what it does. */
  private static List<ProbePath.Flow> flows(SwitchSession s, ProbeMatch fit, long deadline) {
    var req = s.factory().buildFlowStatsRequest().setXid(s.nextXid()).setTableId(TableId.ALL)
        .setOutPort(OFPort.ANY).setOutGroup(OFGroup.ANY).setMatch(s.factory().matchWildcardAll()).build();
    List<ByteBuf> frames = await(s.rawMultipart(req), deadline, s, "flow statistics");
    List<ProbePath.Flow> out = new ArrayList<>();
    try {
      for (ByteBuf f : frames) {
        FlowStatsParser.visitReply(f, v -> {
          FlowStatsParser.Entry e = v.toEntry();
          byte[] instr = e.wireFlow().instructions().toArray();
          Instructions.Effect effect = Instructions.of(instr, 0, instr.length);
          out.add(new ProbePath.Flow(e.table(), e.priority(), e.cookie(),
              e.match() != null ? e.match().toString() : "match " + e.matchTlvs().hex(), effect.forwards(),
              effect.outputs(), fit.couldMatch(e.table(), e.match()), e.packetCount()));
        });
      }
    } catch (IllegalArgumentException e) {
      throw new Refused(502, "switch " + s.name() + ": its flow statistics could not be read (" + e.getMessage() + ")");
    } finally {
      frames.forEach(ByteBuf::release);
    }
    return out;
  }

  /** The transmit packet counter of one port. */
  private static long txPackets(SwitchSession s, long port, long deadline) {
    var req = s.factory().buildPortStatsRequest().setXid(s.nextXid()).setPortNo(OFPort.of((int) port)).build();
    List<OFPortStatsReply> replies = await(s.multipart(req), deadline, s, "port statistics of port " + port);
    for (OFPortStatsReply r : replies) {
      for (var e : r.getEntries()) {
        if (e.getPortNo().getPortNumber() == (int) port) {
          return e.getTxPackets().getValue();
        }
      }
    }
    throw new Refused(502, "switch " + s.name() + " has no port " + port + " (the destination's): is the model's "
        + "binding current? see /api/v1/ports");
  }

  private static <T> T await(CompletableFuture<T> f, long deadline, SwitchSession s, String what) {
    try {
      return f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      f.cancel(false);
      throw new Refused(504, "switch " + s.name() + ": no answer to the " + what + " within the trace's "
          + TIMEOUT.toSeconds() + " s: is it overloaded or going away? see /api/v1/switches, and trace again");
    } catch (ExecutionException e) {
      Throwable c = e.getCause() == null ? e : e.getCause();
      throw new Refused(502, "switch " + s.name() + ": " + what + " failed: " + c.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Refused(503, "interrupted");
    }
  }

  private static void sleepUntil(long nanos) {
    long left;
    while ((left = nanos - System.nanoTime()) > 0) {
      try {
        Thread.sleep(Math.max(1, left / 1_000_000));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Refused(503, "interrupted");
      }
    }
  }

  private static String name(long dpid) {
    return org.projectfloodlight.openflow.types.DatapathId.of(dpid).toString();
  }
}
