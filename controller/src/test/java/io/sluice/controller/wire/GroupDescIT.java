package io.sluice.controller.wire;

import static io.sluice.controller.wire.FlowStatsIT.ok;
import static io.sluice.controller.wire.FlowStatsIT.sh;
import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sluice.controller.wire.FlowStatsIT.Conn;
import io.sluice.controller.wire.WireGroup.WireBucket;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Meter;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * GroupReplies and MeterCodec on real replies: a per-run netdev bridge connects to three tiny controllers of this
 * test (OF1.3, OF1.4, OF1.5). Groups and meters go in as ovs-ofctl text, and again as GroupCodec's and MeterCodec's
 * own messages; every one read back must equal the encoder's wire form. OF1.5 bucket edits keep the other buckets'
 * ids. Group statistics count a packet sent through a group.
 */
class GroupDescIT {
  static final String BRIDGE = "slg" + UUID.randomUUID().toString().replace("-", "").substring(0, 8);
  static final Map<OFVersion, ServerSocket> LISTENERS = new HashMap<>();
  static final Map<OFVersion, Conn> CONNS = new HashMap<>();
  static final List<OFVersion> VERSIONS = List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15);

  @BeforeAll
  static void bridge() throws Exception {
    OfctlCapture.requireOvsOfctl();
    if (!ok("ovs-vsctl", "--timeout=5", "show")) {
      sh("/usr/share/openvswitch/scripts/ovs-ctl", "--system-id=random", "--no-monitor", "start");
    }
    List<String> targets = new ArrayList<>();
    for (OFVersion v : VERSIONS) {
      ServerSocket l = new ServerSocket(0, 5, InetAddress.getLoopbackAddress());
      l.setSoTimeout(20_000);
      LISTENERS.put(v, l);
      targets.add("tcp:127.0.0.1:" + l.getLocalPort());
    }
    List<String> cmd = new ArrayList<>(List.of("ovs-vsctl", "--timeout=10", "add-br", BRIDGE, "--", "set", "bridge", BRIDGE,
        "datapath_type=netdev", "protocols=OpenFlow13,OpenFlow14,OpenFlow15", "--", "set-fail-mode", BRIDGE, "secure",
        "--", "set-controller", BRIDGE));
    cmd.addAll(targets);
    assertThat(sh(cmd.toArray(String[]::new))).doesNotContain("Error detected");
    for (OFVersion v : VERSIONS) {
      CONNS.put(v, new Conn(LISTENERS.get(v).accept(), v));
    }
  }

  @AfterAll
  static void cleanup() throws IOException {
    try {
      for (Conn c : CONNS.values()) {
        c.close();
      }
    } finally {
      ok("ovs-vsctl", "--timeout=10", "--if-exists", "del-br", BRIDGE);
      for (ServerSocket l : LISTENERS.values()) {
        l.close();
      }
    }
  }

  static void clear(String of) {
    sh("ovs-ofctl", "-O", of, "del-flows", BRIDGE);
    sh("ovs-ofctl", "-O", of, "del-groups", BRIDGE);
    sh("ovs-ofctl", "-O", of, "del-meters", BRIDGE);
  }

  static Map<Long, WireGroup> groups(Conn c) throws IOException {
    ByteBuf req = Unpooled.buffer();
    long x = ++c.xid;
    GroupCodec.writeDescRequest(req, c.version, x);
    GroupReplies.Desc d = GroupReplies.parseDesc(c.multipart(req, x));
    assertThat(d.unreadable()).as("unreadable groups").isZero();
    Map<Long, WireGroup> m = new HashMap<>();
    d.groups().forEach(g -> m.put(g.id(), g));
    return m;
  }

  static Map<Long, WireMeter> meters(Conn c) throws IOException {
    ByteBuf req = Unpooled.buffer();
    long x = ++c.xid;
    MeterCodec.writeConfigRequest(req, c.version, x);
    Map<Long, WireMeter> m = new HashMap<>();
    MeterCodec.parseConfig(c.multipart(req, x)).forEach(w -> m.put(w.id(), w));
    return m;
  }

  static void send(Conn c, Consumer<ByteBuf> writer) throws IOException {
    c.send(GroupCodec.toBytes(writer));
  }

  /** Groups in reference order: the one others point at first. */
  static List<Group> goldens() {
    return GoldenGroups.all();
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_13", "OF_14", "OF_15"})
  void groupsAndMetersAddedAsTextReadBackEqualToTheEncoder(OFVersion v) throws Exception {
    Conn c = CONNS.get(v);
    String of = OfctlCapture.ofName(v);
    clear(of);
    Path file = Files.createTempFile("sluice-groups", ".txt");
    try {
      StringBuilder sb = new StringBuilder();
      for (Group g : goldens()) {
        sb.append(GoldenGroups.text(g)).append('\n');
      }
      Files.writeString(file, sb.toString());
      sh("ovs-ofctl", "-O", of, "add-groups", BRIDGE, file.toString());
    } finally {
      Files.deleteIfExists(file);
    }
    for (Meter m : GoldenGroups.meters()) {
      sh("ovs-ofctl", "-O", of, "add-meter", BRIDGE, GoldenGroups.meterText(m));
    }
    Map<Long, WireGroup> have = groups(c);
    for (Group g : goldens()) {
      assertThat(have.get(g.id())).as("%s: %s", v, g).isEqualTo(GroupCodec.wireGroup(g, v));
    }
    Map<Long, WireMeter> meters = meters(c);
    for (Meter m : GoldenGroups.meters()) {
      assertThat(meters.get(m.id())).as("%s: %s", v, m).isEqualTo(MeterCodec.wireMeter(m));
    }
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_13", "OF_14", "OF_15"})
  void theEncodersMessagesAreAcceptedAndReadBackEqual(OFVersion v) throws Exception {
    Conn c = CONNS.get(v);
    clear(OfctlCapture.ofName(v));
    for (Meter m : GoldenGroups.meters()) {
      send(c, b -> MeterCodec.writeMod(b, MeterCodec.ADD, MeterCodec.wireMeter(m), v, 7));
    }
    for (Group g : goldens()) {
      send(c, b -> GroupCodec.writeAdd(b, GroupCodec.wireGroup(g, v), v, 8));
    }
    c.barrier();
    assertThat(c.errors).as("errors from the switch").isEmpty();
    Map<Long, WireGroup> have = groups(c);
    for (Group g : goldens()) {
      assertThat(have.get(g.id())).isEqualTo(GroupCodec.wireGroup(g, v));
    }
    assertThat(meters(c).values()).containsExactlyInAnyOrderElementsOf(
        GoldenGroups.meters().stream().map(MeterCodec::wireMeter).toList());

    // modify: the select group's buckets reversed; a meter's rate; then delete one of each
    Group sel = goldens().get(0);
    List<Group.Bucket> reversed = new ArrayList<>(sel.buckets());
    java.util.Collections.reverse(reversed);
    Group sel2 = new Group(sel.id(), sel.type(), reversed);
    Meter m0 = GoldenGroups.meters().get(0);
    Meter m0b = new Meter(m0.id(), m0.packets(), m0.rate() * 2, m0.burstSize());
    send(c, b -> GroupCodec.writeModify(b, GroupCodec.wireGroup(sel2, v), v, 9));
    send(c, b -> MeterCodec.writeMod(b, MeterCodec.MODIFY, MeterCodec.wireMeter(m0b), v, 10));
    send(c, b -> GroupCodec.writeDelete(b, GoldenGroups.EMPTY, v, 11));
    send(c, b -> MeterCodec.writeDelete(b, GoldenGroups.meters().get(2).id(), v, 12));
    c.barrier();
    assertThat(c.errors).isEmpty();
    have = groups(c);
    assertThat(have.get(sel.id())).isEqualTo(GroupCodec.wireGroup(sel2, v));
    assertThat(have).doesNotContainKey(GoldenGroups.EMPTY);
    Map<Long, WireMeter> meters = meters(c);
    assertThat(meters.get(m0.id())).isEqualTo(MeterCodec.wireMeter(m0b));
    assertThat(meters).doesNotContainKey(GoldenGroups.meters().get(2).id());
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_15"})
  void bucketEditsKeepTheOtherBucketsIds(OFVersion v) throws Exception {
    Conn c = CONNS.get(v);
    clear(OfctlCapture.ofName(v));
    List<Group.Bucket> three = List.of(GoldenGroups.endpoint(1), GoldenGroups.endpoint(2), GoldenGroups.endpoint(3));
    Group g = new Group(Group.ownedId(0x77), Group.Type.SELECT, three);
    WireGroup w = GroupCodec.wireGroup(g, v);
    send(c, b -> GroupCodec.writeAdd(b, w, v, 20));
    WireGroup four = GroupCodec.wireGroup(new Group(g.id(), g.type(), List.of(GoldenGroups.endpoint(4))), v);
    WireBucket added = new WireBucket(3, four.buckets().get(0).content());
    send(c, b -> GroupCodec.writeInsertBuckets(b, g.id(), List.of(added), GroupCodec.BUCKET_LAST, v, 21));
    send(c, b -> GroupCodec.writeRemoveBucket(b, g.id(), 1, v, 22));
    c.barrier();
    assertThat(c.errors).isEmpty();
    WireGroup now = groups(c).get(g.id());
    assertThat(now.buckets()).containsExactly(w.buckets().get(0), w.buckets().get(2), added);
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_13", "OF_15"})
  void groupStatisticsCountAPacketThroughTheGroup(OFVersion v) throws Exception {
    Conn c = CONNS.get(v);
    String of = OfctlCapture.ofName(v);
    clear(of);
    for (Group g : goldens()) {
      send(c, b -> GroupCodec.writeAdd(b, GroupCodec.wireGroup(g, v), v, 30));
    }
    c.barrier();
    assertThat(c.errors).isEmpty();
    sh("ovs-ofctl", "-O", of, "packet-out", BRIDGE, "in_port=LOCAL packet=" + FlowStatsIT.udpPacket()
        + " actions=group:" + GoldenGroups.INDIRECT);
    ByteBuf req = Unpooled.buffer();
    long x = ++c.xid;
    GroupCodec.writeStatsRequest(req, v, x);
    Map<Long, GroupReplies.GroupStats> stats = new HashMap<>();
    GroupReplies.parseStats(c.multipart(req, x)).forEach(s -> stats.put(s.groupId(), s));
    assertThat(stats.keySet()).containsExactlyInAnyOrderElementsOf(goldens().stream().map(Group::id).toList());
    GroupReplies.GroupStats ind = stats.get(GoldenGroups.INDIRECT);
    assertThat(ind.packets()).isEqualTo(1);
    assertThat(ind.bytes()).isEqualTo(42);
    assertThat(ind.buckets()).singleElement().isEqualTo(new GroupReplies.BucketCounter(1, 42));
    assertThat(stats.get(GoldenGroups.SELECT).buckets()).hasSize(goldens().get(0).buckets().size());
    assertThat(stats.get(GoldenGroups.ALL).refCount()).as("flows pointing at it").isZero();
  }
}
