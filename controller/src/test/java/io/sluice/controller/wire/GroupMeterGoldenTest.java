package io.sluice.controller.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.controller.wire.WireGroup.WireBucket;
import io.sluice.renderer.flow.Group;
import io.sluice.renderer.flow.Meter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.projectfloodlight.openflow.protocol.OFVersion;

/**
 * GroupCodec's and MeterCodec's bytes against what real {@code ovs-ofctl --no-names -O OpenFlow1x} sends for the same
 * group or meter as text: add-group, mod-group, del-groups, insert-buckets, remove-buckets, add-meter, mod-meter,
 * del-meter. Every expectation is produced by ovs-ofctl at test time.
 */
class GroupMeterGoldenTest {
  @BeforeAll
  static void needOvs() {
    OfctlCapture.requireOvsOfctl();
  }

  static byte[] single(OFVersion v, String cmd, String text) {
    List<byte[]> msgs = OfctlCapture.capture(v, List.of(cmd), text);
    assertThat(msgs).as("messages ovs-ofctl %s sent for %s", cmd, text).hasSize(1);
    return msgs.get(0);
  }

  static Stream<Arguments> groups() {
    List<Arguments> a = new ArrayList<>();
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
      for (Group g : GoldenGroups.all()) {
        a.add(Arguments.of(v, g));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("groups")
  void addGroupMatchesOvs(OFVersion v, Group g) {
    byte[] ovs = single(v, "add-group", GoldenGroups.text(g));
    WireGroup w = GroupCodec.wireGroup(g, v);
    byte[] ours = GroupCodec.toBytes(b -> GroupCodec.writeAdd(b, w, v, OfctlCapture.xid(ovs)));
    assertThat(OfctlCapture.hex(ours)).as("add-group %s", GoldenGroups.text(g)).isEqualTo(OfctlCapture.hex(ovs));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("groups")
  void modGroupMatchesOvs(OFVersion v, Group g) {
    byte[] ovs = single(v, "mod-group", GoldenGroups.text(g));
    WireGroup w = GroupCodec.wireGroup(g, v);
    byte[] ours = GroupCodec.toBytes(b -> GroupCodec.writeModify(b, w, v, OfctlCapture.xid(ovs)));
    assertThat(OfctlCapture.hex(ours)).isEqualTo(OfctlCapture.hex(ovs));
  }

  @ParameterizedTest
  @EnumSource(value = OFVersion.class, names = {"OF_13", "OF_14", "OF_15"})
  void delGroupMatchesOvs(OFVersion v) {
    byte[] ovs = single(v, "del-groups", "group_id=" + GoldenGroups.SELECT);
    byte[] ours = GroupCodec.toBytes(b -> GroupCodec.writeDelete(b, GoldenGroups.SELECT, v, OfctlCapture.xid(ovs)));
    assertThat(OfctlCapture.hex(ours)).isEqualTo(OfctlCapture.hex(ovs));
  }

  @Test
  void modGroupWithBucketIdsOtherThanPositionsMatchesOvs() {
    OFVersion v = OFVersion.OF_15;
    Group g = GoldenGroups.all().get(0);
    WireGroup pos = GroupCodec.wireGroup(g, v);
    long[] ids = {4, 2, 9, 100};
    List<WireBucket> renumbered = new ArrayList<>();
    StringBuilder text = new StringBuilder("group_id=" + g.id() + ",type=select");
    for (int i = 0; i < ids.length; i++) {
      renumbered.add(new WireBucket(ids[i], pos.buckets().get(i).content()));
      text.append(',').append(GoldenGroups.bucketText(ids[i], g.buckets().get(i).weight(), g.buckets().get(i)));
    }
    WireGroup w = new WireGroup(g.id(), pos.type(), renumbered, Bytes.EMPTY);
    byte[] ovs = single(v, "mod-group", text.toString());
    assertThat(OfctlCapture.hex(GroupCodec.toBytes(b -> GroupCodec.writeModify(b, w, v, OfctlCapture.xid(ovs)))))
        .isEqualTo(OfctlCapture.hex(ovs));
  }

  static Stream<Arguments> inserts() {
    List<Arguments> a = new ArrayList<>();
    for (Group g : GoldenGroups.all()) {
      if (!g.buckets().isEmpty()) {
        a.add(Arguments.of(g, "last"));
        a.add(Arguments.of(g, "first"));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} at {1}")
  @MethodSource("inserts")
  void insertBucketsMatchesOvs(Group g, String where) {
    OFVersion v = OFVersion.OF_15;
    WireGroup w = GroupCodec.wireGroup(g, v);
    StringBuilder text = new StringBuilder("group_id=" + g.id() + ",command_bucket_id=" + where);
    List<WireBucket> added = new ArrayList<>();
    for (int i = 0; i < g.buckets().size(); i++) {
      long id = 17 + 3L * i;
      added.add(new WireBucket(id, w.buckets().get(i).content()));
      text.append(',').append(GoldenGroups.bucketText(id, w.buckets().get(i).content().weight(), g.buckets().get(i)));
    }
    long cmd = where.equals("last") ? GroupCodec.BUCKET_LAST : GroupCodec.BUCKET_FIRST;
    byte[] ovs = single(v, "insert-buckets", text.toString());
    byte[] ours = GroupCodec.toBytes(b -> GroupCodec.writeInsertBuckets(b, g.id(), added, cmd, v, OfctlCapture.xid(ovs)));
    assertThat(OfctlCapture.hex(ours)).as("insert-buckets %s", text).isEqualTo(OfctlCapture.hex(ovs));
  }

  @Test
  void removeBucketsMatchesOvs() {
    OFVersion v = OFVersion.OF_15;
    for (String which : List.of("5", "0", "all")) {
      byte[] ovs = single(v, "remove-buckets", "group_id=" + GoldenGroups.SELECT + ",command_bucket_id=" + which);
      long id = which.equals("all") ? GroupCodec.BUCKET_ALL : Long.parseLong(which);
      byte[] ours = GroupCodec.toBytes(b -> GroupCodec.writeRemoveBucket(b, GoldenGroups.SELECT, id, v, OfctlCapture.xid(ovs)));
      assertThat(OfctlCapture.hex(ours)).as("remove-buckets %s", which).isEqualTo(OfctlCapture.hex(ovs));
    }
  }

  @Test
  void bucketEditsNeedOpenFlow15() {
    assertThatThrownBy(() -> GroupCodec.toBytes(b -> GroupCodec.writeRemoveBucket(b, GoldenGroups.SELECT, 1,
        OFVersion.OF_13, 1))).hasMessageContaining("needs OpenFlow 1.5");
    assertThatThrownBy(() -> GroupCodec.toBytes(b -> GroupCodec.writeInsertBuckets(b, GoldenGroups.SELECT, List.of(),
        GroupCodec.BUCKET_LAST, OFVersion.OF_14, 1))).hasMessageContaining("needs OpenFlow 1.5");
  }

  static Stream<Arguments> meters() {
    List<Arguments> a = new ArrayList<>();
    for (OFVersion v : List.of(OFVersion.OF_13, OFVersion.OF_14, OFVersion.OF_15)) {
      for (Meter m : GoldenGroups.meters()) {
        a.add(Arguments.of(v, m));
      }
    }
    return a.stream();
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("meters")
  void meterModsMatchOvs(OFVersion v, Meter m) {
    WireMeter w = MeterCodec.wireMeter(m);
    byte[] add = single(v, "add-meter", GoldenGroups.meterText(m));
    assertThat(OfctlCapture.hex(GroupCodec.toBytes(b -> MeterCodec.writeMod(b, MeterCodec.ADD, w, v, OfctlCapture.xid(add)))))
        .isEqualTo(OfctlCapture.hex(add));
    byte[] mod = single(v, "mod-meter", GoldenGroups.meterText(m));
    assertThat(OfctlCapture.hex(GroupCodec.toBytes(b -> MeterCodec.writeMod(b, MeterCodec.MODIFY, w, v, OfctlCapture.xid(mod)))))
        .isEqualTo(OfctlCapture.hex(mod));
    byte[] del = single(v, "del-meter", "meter=" + m.id());
    assertThat(OfctlCapture.hex(GroupCodec.toBytes(b -> MeterCodec.writeDelete(b, m.id(), v, OfctlCapture.xid(del)))))
        .isEqualTo(OfctlCapture.hex(del));
  }
}
