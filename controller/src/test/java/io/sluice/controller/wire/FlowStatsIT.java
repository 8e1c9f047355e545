package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.sync.FlowCodec;
import io.sluice.controller.sync.OvsFlowCodec;
import io.sluice.controller.sync.SwitchOp;
import io.sluice.controller.wire.GoldenFlows.Case;
import io.sluice.renderer.flow.Action;
import io.sluice.renderer.flow.Cookie;
import io.sluice.renderer.flow.Field;
import io.sluice.renderer.flow.Flow;
import io.sluice.renderer.flow.Match;
import io.sluice.renderer.flow.OfctlFormat;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.projectfloodlight.openflow.protocol.OFFlowModCommand;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * FlowStatsParser on real flow-stats replies: a per-run netdev bridge connects to two tiny controllers of this
 * test (one speaks OF1.3, one OF1.5); flows go in with ovs-ofctl as OfctlFormat's text; every parsed WireFlow must
 * equal FlowEncoder's, in both versions. Then the switch must accept FlowEncoder's own flow-mods.
 */
class FlowStatsIT {
  static final String BRIDGE = "slw" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
  static ServerSocket l13;
  static ServerSocket l15;
  static Conn c13;
  static Conn c15;
  static List<Flow> flows;
  static Flow counted;

  static String sh(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new AssertionError(String.join(" ", cmd) + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new AssertionError(String.join(" ", cmd) + ": " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static boolean ok(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @BeforeAll
  static void bridge() throws Exception {
    OfctlCapture.requireOvsOfctl();
    if (!ok("ovs-vsctl", "--timeout=5", "show")) {
      sh("/usr/share/openvswitch/scripts/ovs-ctl", "--system-id=random", "--no-monitor", "start");
    }
    l13 = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    l15 = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
    l13.setSoTimeout(20_000);
    l15.setSoTimeout(20_000);
    String out = sh("ovs-vsctl", "--timeout=10", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE, "datapath_type=netdev",
        "protocols=OpenFlow13,OpenFlow14,OpenFlow15", "--", "set-fail-mode", BRIDGE, "secure", "--",
        "set-controller", BRIDGE, "tcp:127.0.0.1:" + l13.getLocalPort(), "tcp:127.0.0.1:" + l15.getLocalPort());
    assertThat(out).doesNotContain("Error detected");
    // the controller is set first: connecting one flushes the table
    c13 = new Conn(l13.accept(), OFVersion.OF_13);
    c15 = new Conn(l15.accept(), OFVersion.OF_15);
    sh("ovs-ofctl", "-O", "OpenFlow15", "add-meter", BRIDGE, GoldenFlows.METER_TEXT);
    for (int i = 0; i < 2; i++) {
      sh("ovs-ofctl", "-O", "OpenFlow15", "add-group", BRIDGE, "group_id=" + (i == 0 ? 5 : 9) + ",type=all,bucket=output:1");
    }
    // every golden flow, each at its own priority so none replaces another
    flows = new ArrayList<>();
    List<Case> cases = GoldenFlows.all();
    for (int i = 0; i < cases.size(); i++) {
      Flow f = cases.get(i).flow();
      flows.add(new Flow(f.table(), 1000 + i, f.match(), f.actions(), f.cookie()));
    }
    counted = new Flow(0, 65000, Match.builder().ipv4().exact(Field.IP_PROTO, 17).exact(Field.IPV4_SRC, 0xc0000263L).build(),
        List.of(), Cookie.of(Cookie.Category.BASE, 1, 77));
    flows.add(counted);
  }

  /**
   * Replaces the bridge's flows with the golden flows, installed with ovs-ofctl in version {@code v}. OVS keeps
   * the wire form an action arrived in: a move installed through OF1.5 (copy_field) is dumped in OF1.3 as ONF's
   * experimenter copy_field, not as reg_move. So flows are installed in the version they are read back in.
   */
  static void install(OFVersion v) throws Exception {
    String of = OfctlCapture.ofName(v);
    sh("ovs-ofctl", "-O", of, "del-flows", BRIDGE);
    Path file = Files.createTempFile("sluice-flows", ".txt");
    try {
      StringBuilder sb = new StringBuilder();
      for (Flow f : flows) {
        sb.append(OfctlFormat.flow(f).substring(1)).append('\n');
      }
      Files.writeString(file, sb.toString());
      sh("ovs-ofctl", "-O", of, "add-flows", BRIDGE, file.toString());
    } finally {
      Files.deleteIfExists(file);
    }
    // one UDP packet from 192.0.2.99 through the tables, for the counters
    sh("ovs-ofctl", "-O", of, "packet-out", BRIDGE, "in_port=LOCAL packet=" + udpPacket() + " actions=table");
    Thread.sleep(1100); // durations of at least one second
  }

  static String udpPacket() {
    return "ffffffffffff" + "000000000001" + "0800"
        + "4500001c00010000" + "4011" + "0000" + "c0000263" + "c0000201" // IPv4, 28 bytes, UDP, checksum unchecked
        + "30393039" + "00080000"; // UDP 12345 -> 12345, 8 bytes
  }

  @AfterAll
  static void cleanup() throws IOException {
    try {
      for (Conn c : new Conn[] {c13, c15}) {
        if (c != null) {
          c.close();
        }
      }
    } finally {
      ok("ovs-vsctl", "--timeout=10", "--if-exists", "del-br", BRIDGE);
      if (l13 != null) {
        l13.close();
      }
      if (l15 != null) {
        l15.close();
      }
    }
  }

  void checkDump(Conn c) throws Exception {
    OFVersion v = c.version;
    install(v);
    FlowStatsParser.Result r = FlowStatsParser.parseReplies(c.flowStats());
    assertThat(r.skipped()).isZero();
    assertThat(r.entries()).hasSize(flows.size());
    Map<WireFlow.Key, FlowStatsParser.Entry> byKey = new HashMap<>();
    for (FlowStatsParser.Entry e : r.entries()) {
      byKey.put(e.wireFlow().key(), e);
    }
    for (Flow f : flows) {
      WireFlow want = FlowEncoder.wireFlow(f, v);
      FlowStatsParser.Entry e = byKey.get(want.key());
      assertThat(e).as("%s: flow %s in the dump", v, f).isNotNull();
      assertThat(e.wireFlow()).as("%s: %s", v, f).isEqualTo(want);
      assertThat(e.match()).as("%s: decoded match of %s", v, f).isEqualTo(f.match());
      assertThat(e.durationSec()).isGreaterThanOrEqualTo(1);
      assertThat(e.durationMillis()).isGreaterThanOrEqualTo(1000);
      if (f == counted) {
        assertThat(e.packetCount()).isEqualTo(1);
        assertThat(e.byteCount()).isEqualTo(42);
      } else {
        assertThat(e.packetCount()).isZero();
      }
      if (v == OFVersion.OF_15) {
        assertThat(e.idleSec()).isGreaterThanOrEqualTo(0);
      }
    }
  }

  @Test
  void openFlow13DumpEqualsEncoder() throws Exception {
    checkDump(c13);
  }

  @Test
  void openFlow15DumpEqualsEncoder() throws Exception {
    checkDump(c15);
  }

  @Test
  void switchAcceptsEncoderFlowModsAndCodecDeletesByWireForm() throws Exception {
    install(OFVersion.OF_13);
    // a separate table range so the dump tests are not disturbed: modify, add and delete flows of table 200
    Flow a = new Flow(200, 7, Match.builder().ipv4().exact(Field.REG3, 4).masked(Field.CT_STATE, 0x21, 0x21).build(),
        List.of(Action.Ct.commit(3), new Action.Load(Field.REG5, 8, 8, 9), new Action.Move(Field.REG0, 0, Field.REG1, 0, 16),
            new Action.Resubmit(201)), Cookie.of(Cookie.Category.POLICY, 1, 1));
    Flow b = new Flow(200, 8, Match.builder().ipv6().exact(Field.IP_PROTO, 6).masked(Field.TCP_FLAGS, 2, 0x12).build(),
        List.of(new Action.Conjunction(3, 1, 2)), Cookie.of(Cookie.Category.POLICY, 1, 2));
    for (Conn c : new Conn[] {c13, c15}) {
      OFVersion v = c.version;
      OvsFlowCodec codec = new OvsFlowCodec();
      c.send(FlowEncoder.flowMod(a, v, OFFlowModCommand.ADD, 100));
      c.send(FlowEncoder.flowMod(b, v, OFFlowModCommand.ADD, 101));
      Flow a2 = new Flow(a.table(), a.priority(), a.match(), List.of(new Action.Resubmit(202)), a.cookie());
      c.send(FlowEncoder.flowMod(a2, v, OFFlowModCommand.MODIFY_STRICT, 102));
      c.barrier();
      assertThat(c.errors).as("errors from the switch, %s", v).isEmpty();
      FlowCodec.Stats s = codec.parseStats(c.flowStats(), v);
      Map<Object, FlowCodec.Entry> have = new HashMap<>();
      s.entries().forEach(e -> have.put(e.key(), e));
      FlowCodec.Entry wantA = codec.encode(a2, v);
      assertThat(have.get(wantA.key()).body()).isEqualTo(wantA.body());
      assertThat(have.get(wantA.key()).cookie()).isEqualTo(a.cookie().value());
      FlowCodec.Entry gotB = have.get(codec.encode(b, v).key());
      assertThat(gotB.body()).isEqualTo(codec.encode(b, v).body());
      // delete both from their read-back form (sorted match TLVs, no source flow)
      for (FlowCodec.Entry e : List.of(have.get(wantA.key()), gotB)) {
        ByteBuf buf = Unpooled.buffer();
        codec.writeFlowMod(buf, e, SwitchOp.Kind.DELETE, 103, v);
        byte[] m = new byte[buf.readableBytes()];
        buf.readBytes(m);
        c.send(m);
      }
      c.barrier();
      assertThat(c.errors).isEmpty();
      FlowCodec.Stats after = codec.parseStats(c.flowStats(), v);
      assertThat(after.entries()).extracting(FlowCodec.Entry::key).doesNotContain(wantA.key(), gotB.key());
      assertThat(after.entries()).hasSize(flows.size());
    }
  }

  /** A minimal controller side of one OpenFlow connection. */
  static final class Conn {
    final Socket s;
    final OFVersion version;
    final DataInputStream in;
    final OutputStream out;
    final List<String> errors = new ArrayList<>();
    int xid = 1000;

    Conn(Socket s, OFVersion v) throws IOException {
      this.s = s;
      this.version = v;
      s.setSoTimeout(20_000);
      in = new DataInputStream(s.getInputStream());
      out = s.getOutputStream();
      send(new byte[] {(byte) v.getWireVersion(), 0, 0, 8, 0, 0, 0, 1});
      byte[] hello = read();
      assertThat(hello[1]).as("HELLO from the switch").isEqualTo((byte) 0);
    }

    void send(byte[] m) throws IOException {
      out.write(m);
      out.flush();
    }

    byte[] read() throws IOException {
      byte[] h = new byte[8];
      in.readFully(h);
      int len = (h[2] & 0xff) << 8 | (h[3] & 0xff);
      byte[] m = new byte[len];
      System.arraycopy(h, 0, m, 0, 8);
      in.readFully(m, 8, len - 8);
      if (m[1] == 2) { // ECHO_REQUEST
        m[1] = 3;
        send(m);
      }
      if (m[1] == 1) { // ERROR
        errors.add(OfctlCapture.hex(m));
      }
      return m;
    }

    void barrier() throws IOException {
      int x = ++xid;
      send(new byte[] {(byte) version.getWireVersion(), 20, 0, 8, 0, 0, (byte) (x >> 8), (byte) x});
      while (true) {
        byte[] m = read();
        if (m[1] == 21 && OfctlCapture.xid(m) == x) {
          return;
        }
      }
    }

    /** Sends an all-tables flow-stats request and returns every reply part. */
    List<ByteBuf> flowStats() throws IOException {
      int x = ++xid;
      ByteBuf req = Unpooled.buffer();
      req.writeByte(version.getWireVersion()).writeByte(18).writeShort(56).writeInt(x);
      req.writeShort(1).writeShort(0).writeInt(0);
      req.writeByte(0xff).writeZero(3).writeInt(0xffffffff).writeInt(0xffffffff).writeInt(0);
      req.writeLong(0).writeLong(0);
      req.writeShort(1).writeShort(4).writeInt(0);
      return multipart(req, x);
    }

    /** Sends a multipart request written with xid {@code x} and returns every reply part. */
    List<ByteBuf> multipart(ByteBuf req, long x) throws IOException {
      byte[] r = new byte[req.readableBytes()];
      req.readBytes(r);
      send(r);
      List<ByteBuf> parts = new ArrayList<>();
      while (true) {
        byte[] m = read();
        if (m[1] == 1 && OfctlCapture.xid(m) == x) {
          throw new AssertionError("switch refused the multipart request: " + OfctlCapture.hex(m));
        }
        if (m[1] == 19 && OfctlCapture.xid(m) == x) {
          parts.add(Unpooled.wrappedBuffer(m));
          if ((m[11] & 1) == 0) {
            return parts;
          }
        }
      }
    }

    void close() throws IOException {
      s.close();
    }
  }
}
